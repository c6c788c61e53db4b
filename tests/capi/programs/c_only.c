/* C-only calls (NULL out-parameters, config values by address): tests/capi/test_simlib.py. */
#include <stdio.h>
#include "acl/acl.h"

#define SHOW(call) printf("%s = %d\n", #call, (int)(call))

int main(int argc, char **argv)
{
    (void)argc;
    uint32_t id = 0;
    size_t work = 0, weight = 0, free0 = 0, free1 = 0, total = 0;
    SHOW(aclInit(NULL));
    SHOW(aclrtSetDevice(0));
    SHOW(aclrtGetMemInfo(ACL_HBM_MEM, &free0, &total));
    SHOW(aclmdlQuerySize(argv[1], NULL, &weight));
    SHOW(aclmdlQuerySize(argv[1], &work, NULL));
    SHOW(aclmdlLoadFromFile(argv[1], NULL));
    SHOW(aclmdlLoadFromFileWithMem(argv[1], NULL, NULL, 0, NULL, 0));
    SHOW(aclmdlLoadFromFile(NULL, &id));
    SHOW(aclrtMalloc(NULL, 64, ACL_MEM_MALLOC_HUGE_FIRST));
    SHOW(aclrtCreateContext(NULL, 0));
    SHOW(aclrtGetRunMode(NULL));
    SHOW(aclrtGetMemInfo(ACL_HBM_MEM, &free1, &total));
    printf("device memory unchanged: %d\n", free0 == free1);
    printf("recent: %s\n", aclGetRecentErrMsg());
    SHOW(aclmdlQuerySize(argv[1], &work, &weight));
    printf("sizes set: %d\n", work > 0 && weight > 0);

    /* config values by address, sized as C passes them (acl-api.md §2, §2.1) */
    aclmdlConfigHandle *handle = aclmdlCreateConfigHandle();
    size_t type = ACL_MDL_LOAD_FROM_FILE;
    const char *path = argv[1];
    int32_t without = 1;
    int64_t eight = 1;
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_LOAD_TYPE_SIZET, &type, 4));
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_LOAD_TYPE_SIZET, &type, sizeof(type)));
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_PATH_PTR, NULL, sizeof(path)));
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_PATH_PTR, &path, sizeof(path)));
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_WITHOUT_GRAPH_INT32, &eight, sizeof(eight)));
    SHOW(aclmdlSetConfigOpt(handle, ACL_MDL_WITHOUT_GRAPH_INT32, &without, sizeof(without)));
    SHOW(aclmdlLoadWithConfig(handle, &id));
    SHOW(aclmdlDestroyConfigHandle(handle));

    aclmdlDesc *desc = aclmdlCreateDesc();
    aclmdlIODims dims;
    SHOW(aclmdlGetDesc(desc, id));
    SHOW(aclmdlGetInputDims(desc, 0, &dims));
    printf("input 0: %s, %zu dims, first %lld\n", dims.name, dims.dimCount, (long long)dims.dims[0]);
    SHOW(aclmdlGetInputDims(desc, 9, &dims));
    SHOW(aclmdlDestroyDesc(desc));
    SHOW(aclmdlUnload(id));
    SHOW(aclmdlUnload(id));
    SHOW(aclrtResetDevice(0));
    SHOW(aclFinalize());
    return 0;
}
