/* ACL_APP_LOG as applications use it, before aclInit and after, around init and finalize;
 * the simulator keeps no application log, so nothing of the messages may appear, and formats
 * that would crash a formatter (no arguments for %s and %n, a NULL format) are harmless.
 * "only": log and nothing else (no call that starts the simulator). tests/capi/test_simlib.py */
#include <stdio.h>
#include <string.h>
#include "acl/acl.h"

static void log_all(const char *when)
{
    ACL_APP_LOG(ACL_INFO, "x=%d %s", 1, "y");
    ACL_APP_LOG(ACL_DEBUG, "debug %s", when);
    ACL_APP_LOG(ACL_WARNING, "no arguments for these: %s %s %s %n");
    ACL_APP_LOG(ACL_ERROR, "plain message");
    aclAppLog(ACL_ERROR, NULL, NULL, 0, NULL);
    aclAppLog((aclLogLevel)99, __FUNCTION__, __FILE__, __LINE__, "%s", when);
}

int main(int argc, char **argv)
{
    log_all("before init");
    if (argc > 1 && strcmp(argv[1], "only") == 0) {
        printf("logged only\n");
        return 0;
    }
    printf("aclInit %d\n", (int)aclInit(NULL));
    log_all("after init");
    printf("aclFinalize %d\n", (int)aclFinalize());
    log_all("after finalize");
    printf("done\n");
    return 0;
}
