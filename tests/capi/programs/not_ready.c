/* Calls a program makes first, printed with what they returned, for a library that could not
 * start the simulator: nothing may read as success (tests/capi/test_simlib.py). */
#include <stdio.h>
#include "acl/acl.h"

int main(int argc, char **argv)
{
    uint32_t modelId = 7;
    void *devPtr = (void *)0x40;
    const char *recent;
    aclError ret;
    const char *path = argc > 1 ? argv[1] : "model.om";

    printf("aclInit(NULL) = %d\n", (int)aclInit(NULL));
    printf("aclrtSetDevice(0) = %d\n", (int)aclrtSetDevice(0));
    ret = aclmdlLoadFromFile(path, &modelId);
    printf("aclmdlLoadFromFile(path, &modelId) = %d, modelId %u\n", (int)ret, modelId);
    ret = aclrtMalloc(&devPtr, 64, ACL_MEM_MALLOC_HUGE_FIRST);
    printf("aclrtMalloc(&devPtr, 64, ACL_MEM_MALLOC_HUGE_FIRST) = %d, devPtr %s\n", (int)ret,
           devPtr == (void *)0x40 ? "unchanged" : "changed");
    printf("aclmdlCreateDesc() %s\n", aclmdlCreateDesc() == NULL ? "NULL" : "not NULL");
    recent = aclGetRecentErrMsg();
    printf("aclGetRecentErrMsg() = %s\n", recent == NULL ? "NULL" : recent);
    printf("aclFinalize() = %d\n", (int)aclFinalize());
    return 0;
}
