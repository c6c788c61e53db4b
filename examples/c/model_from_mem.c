/*
 * model_from_mem.c — an AscendCL program in the style of the official samples: a model loaded
 * from memory into user-managed work and weight memory, run once, its outputs compared with a
 * reference.
 *
 *   init → set device → context, stream → read the .om into host memory →
 *   aclmdlQuerySizeFromMem → aclrtMalloc work and weight → aclmdlLoadFromMemWithMem →
 *   desc → datasets (inputs copied host→device) → aclmdlExecute → outputs copied back and
 *   compared → unload → destroy, free → reset device → finalize
 *
 * Plain AscendCL: on an NPU host it builds against CANN's headers and libascendcl.so. On the
 * pytest-acl simulator:
 *
 *   pytest-acl sim-lib --out build/simlib
 *   cc examples/c/model_from_mem.c -I build/simlib/include -L build/simlib/lib -lascendcl \
 *      -Wl,-rpath,build/simlib/lib -o build/model_from_mem
 *   pytest-acl models build --out build/models --only mlp
 *   python examples/c/raw_files.py build/models/mlp.npz build/mlp-raw
 *   build/model_from_mem build/models/mlp.om build/mlp-raw/in_0.bin build/mlp-raw/out_0.bin
 *
 * Arguments: the model, one raw file per input (the bytes of the input tensor), then one raw
 * file per output (the reference tensor). Float outputs match within 1e-4 relative, 1e-5
 * absolute; others byte for byte. Exit status 0 when every output matches, 1 when one does
 * not, 2 on a usage or AscendCL error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"

#define DEVICE_ID 0

#define CHECK(call)                                                                      \
    do {                                                                                 \
        aclError ret_ = (call);                                                          \
        if (ret_ != ACL_SUCCESS) {                                                       \
            const char *why_ = aclGetRecentErrMsg();                                     \
            fprintf(stderr, "%s failed, ret=%d%s%s\n", #call, ret_, why_ ? ": " : "",    \
                    why_ ? why_ : "");                                                   \
            exit(2);                                                                     \
        }                                                                                \
    } while (0)

/* Read a whole file into host memory; *size gets its length. */
static void *read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    void *data = malloc(length > 0 ? (size_t)length : 1);
    if (data == NULL || (length > 0 && fread(data, 1, (size_t)length, file) != (size_t)length)) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(file);
    *size = (size_t)length;
    return data;
}

/* Build a dataset of device buffers, one per input or output of the model. */
static aclmdlDataset *create_dataset(aclmdlDesc *desc, int inputs, char **files, void **device)
{
    aclmdlDataset *dataset = aclmdlCreateDataset();
    size_t count = inputs ? aclmdlGetNumInputs(desc) : aclmdlGetNumOutputs(desc);
    for (size_t i = 0; i < count; ++i) {
        size_t size = inputs ? aclmdlGetInputSizeByIndex(desc, i) : aclmdlGetOutputSizeByIndex(desc, i);
        CHECK(aclrtMalloc(&device[i], size, ACL_MEM_MALLOC_HUGE_FIRST));
        if (inputs) {
            size_t length = 0;
            void *host = read_file(files[i], &length);
            if (length != size) {
                fprintf(stderr, "%s has %zu bytes; input %zu (%s) takes %zu\n", files[i], length, i,
                        aclmdlGetInputNameByIndex(desc, i), size);
                exit(2);
            }
            CHECK(aclrtMemcpy(device[i], size, host, size, ACL_MEMCPY_HOST_TO_DEVICE));
            free(host);
        }
        aclDataBuffer *buffer = aclCreateDataBuffer(device[i], size);
        if (buffer == NULL) {
            fprintf(stderr, "aclCreateDataBuffer failed\n");
            exit(2);
        }
        CHECK(aclmdlAddDatasetBuffer(dataset, buffer));
    }
    return dataset;
}

static void destroy_dataset(aclmdlDataset *dataset, void **device)
{
    for (size_t i = 0; i < aclmdlGetDatasetNumBuffers(dataset); ++i) {
        CHECK(aclDestroyDataBuffer(aclmdlGetDatasetBuffer(dataset, i)));
        CHECK(aclrtFree(device[i]));
    }
    CHECK(aclmdlDestroyDataset(dataset));
}

/* Copy output i back and compare it with its reference file; returns 1 when it matches. */
static int check_output(aclmdlDesc *desc, size_t i, void *device, const char *reference)
{
    size_t size = aclmdlGetOutputSizeByIndex(desc, i);
    void *host = NULL;
    CHECK(aclrtMallocHost(&host, size));
    CHECK(aclrtMemcpy(host, size, device, size, ACL_MEMCPY_DEVICE_TO_HOST));
    size_t length = 0;
    void *expected = read_file(reference, &length);
    const char *name = aclmdlGetOutputNameByIndex(desc, i);
    int matches = length == size;
    double worst = 0.0;
    if (matches && aclmdlGetOutputDataType(desc, i) == ACL_FLOAT) {
        const float *got = host, *want = expected;
        for (size_t k = 0; k < size / sizeof(float); ++k) {
            double error = fabs((double)got[k] - (double)want[k]);
            worst = error > worst ? error : worst;
            if (error > 1e-5 + 1e-4 * fabs((double)want[k])) {
                matches = 0;
            }
        }
    } else if (matches) {
        matches = memcmp(host, expected, size) == 0;
    }
    if (length != size) {
        printf("output %zu (%s): %zu bytes, the reference %s has %zu\n", i, name, size, reference, length);
    } else {
        printf("output %zu (%s): %zu bytes, max abs error %.3g, %s the reference\n", i, name, size, worst,
               matches ? "matches" : "DOES NOT MATCH");
    }
    free(expected);
    CHECK(aclrtFreeHost(host));
    return matches;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.om INPUT.bin... REFERENCE.bin...\n", argv[0]);
        return 2;
    }
    CHECK(aclInit(NULL));
    CHECK(aclrtSetDevice(DEVICE_ID));
    aclrtContext context = NULL;
    CHECK(aclrtCreateContext(&context, DEVICE_ID));
    aclrtStream stream = NULL;
    CHECK(aclrtCreateStream(&stream));
    aclrtRunMode runMode;
    CHECK(aclrtGetRunMode(&runMode));

    /* The model bytes stay in host memory (EP products: seed aclmdlLoadFromMem). */
    size_t modelSize = 0;
    void *model = read_file(argv[1], &modelSize);
    size_t workSize = 0, weightSize = 0;
    CHECK(aclmdlQuerySizeFromMem(model, modelSize, &workSize, &weightSize));
    void *workPtr = NULL, *weightPtr = NULL; /* NULL: the system manages that part */
    if (workSize > 0) {
        CHECK(aclrtMalloc(&workPtr, workSize, ACL_MEM_MALLOC_HUGE_FIRST));
    }
    if (weightSize > 0) {
        CHECK(aclrtMalloc(&weightPtr, weightSize, ACL_MEM_MALLOC_HUGE_FIRST));
    }
    uint32_t modelId = 0;
    CHECK(aclmdlLoadFromMemWithMem(model, modelSize, &modelId, workPtr, workSize, weightPtr, weightSize));
    aclmdlDesc *desc = aclmdlCreateDesc();
    CHECK(aclmdlGetDesc(desc, modelId));

    size_t inputs = aclmdlGetNumInputs(desc), outputs = aclmdlGetNumOutputs(desc);
    if ((size_t)argc != 2 + inputs + outputs) {
        fprintf(stderr, "%s has %zu inputs and %zu outputs: give %zu input files and %zu reference files\n",
                argv[1], inputs, outputs, inputs, outputs);
        return 2;
    }
    void **inputDevice = calloc(inputs + 1, sizeof(void *));
    void **outputDevice = calloc(outputs + 1, sizeof(void *));
    aclmdlDataset *input = create_dataset(desc, 1, argv + 2, inputDevice);
    aclmdlDataset *output = create_dataset(desc, 0, NULL, outputDevice);

    CHECK(aclmdlExecute(modelId, input, output));

    int matches = 1;
    for (size_t i = 0; i < outputs; ++i) {
        matches &= check_output(desc, i, outputDevice[i], argv[2 + inputs + i]);
    }

    destroy_dataset(input, inputDevice);
    destroy_dataset(output, outputDevice);
    free(inputDevice);
    free(outputDevice);
    CHECK(aclmdlUnload(modelId)); /* unload before the memory it uses is freed */
    CHECK(aclmdlDestroyDesc(desc));
    if (workPtr != NULL) {
        CHECK(aclrtFree(workPtr));
    }
    if (weightPtr != NULL) {
        CHECK(aclrtFree(weightPtr));
    }
    free(model);
    CHECK(aclrtDestroyStream(stream));
    CHECK(aclrtDestroyContext(context));
    CHECK(aclrtResetDevice(DEVICE_ID));
    CHECK(aclFinalize());
    printf("model %s (run mode %s): work %zu bytes, weight %zu bytes, %s\n", argv[1],
           runMode == ACL_HOST ? "host" : "device", workSize, weightSize, matches ? "verified" : "MISMATCH");
    return matches ? 0 : 1;
}
