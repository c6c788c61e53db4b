/* Host callbacks through the C library: a thread subscribed to a stream runs, in
 * aclrtProcessReport, the C callbacks launched on it (tests/capi/test_simlib.py). */
#include <pthread.h>
#include <stdio.h>
#include "acl/acl.h"

static volatile int stop = 0;
static pthread_t reporter;

struct Seen {
    int calls;
    int onReporter;
};

static void *report_loop(void *unused)
{
    (void)unused;
    while (!stop) {
        aclrtProcessReport(100); /* 507012 when nothing came within 100 ms */
    }
    return NULL;
}

static void callback(void *userData)
{
    struct Seen *seen = userData;
    seen->calls += 1;
    seen->onReporter += pthread_equal(pthread_self(), reporter) ? 1 : 0;
}

int main(void)
{
    struct Seen seen = {0, 0};
    aclrtStream stream = NULL;
    printf("init %d\n", aclInit(NULL));
    printf("set device %d\n", aclrtSetDevice(0));
    printf("create stream %d\n", aclrtCreateStream(&stream));
    pthread_create(&reporter, NULL, report_loop, NULL);
    printf("subscribe %d\n", aclrtSubscribeReport((uint64_t)reporter, stream));
    printf("launch %d\n", aclrtLaunchCallback(callback, &seen, ACL_CALLBACK_BLOCK, stream));
    printf("launch %d\n", aclrtLaunchCallback(callback, &seen, ACL_CALLBACK_BLOCK, stream));
    printf("launch NULL %d\n", aclrtLaunchCallback(NULL, &seen, ACL_CALLBACK_BLOCK, stream));
    printf("synchronize %d\n", aclrtSynchronizeStream(stream));
    printf("calls %d, on the reporting thread %d\n", seen.calls, seen.onReporter);
    printf("unsubscribe %d\n", aclrtUnSubscribeReport((uint64_t)reporter, stream));
    stop = 1;
    pthread_join(reporter, NULL);
    printf("destroy stream %d\n", aclrtDestroyStream(stream));
    printf("reset %d\n", aclrtResetDevice(0));
    printf("finalize %d\n", aclFinalize());
    return 0;
}
