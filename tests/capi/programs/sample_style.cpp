// The official samples' C++ model-processing flow (file with user memory, as
// resnet50_imagenet_classification's model_process.cpp does it), written for this test.
#include <cstdio>
#include <vector>
#include "acl/acl.h"

class ModelProcess {
public:
    bool Load(const char *path) {
        if (aclmdlQuerySize(path, &workSize_, &weightSize_) != ACL_SUCCESS) return false;
        if (aclrtMalloc(&workPtr_, workSize_, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) return false;
        if (aclrtMalloc(&weightPtr_, weightSize_, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) return false;
        if (aclmdlLoadFromFileWithMem(path, &modelId_, workPtr_, workSize_, weightPtr_, weightSize_)
            != ACL_SUCCESS) return false;
        desc_ = aclmdlCreateDesc();
        return aclmdlGetDesc(desc_, modelId_) == ACL_SUCCESS;
    }
    aclmdlDataset *Dataset(bool inputs) {
        aclmdlDataset *dataset = aclmdlCreateDataset();
        size_t count = inputs ? aclmdlGetNumInputs(desc_) : aclmdlGetNumOutputs(desc_);
        for (size_t i = 0; i < count; ++i) {
            size_t size = inputs ? aclmdlGetInputSizeByIndex(desc_, i) : aclmdlGetOutputSizeByIndex(desc_, i);
            void *buffer = nullptr;
            aclrtMalloc(&buffer, size, ACL_MEM_MALLOC_NORMAL_ONLY);
            if (inputs) aclrtMemset(buffer, size, 0, size);
            aclmdlAddDatasetBuffer(dataset, aclCreateDataBuffer(buffer, size));
        }
        return dataset;
    }
    void Release(aclmdlDataset *dataset) {
        for (size_t i = 0; i < aclmdlGetDatasetNumBuffers(dataset); ++i) {
            aclDataBuffer *buffer = aclmdlGetDatasetBuffer(dataset, i);
            aclrtFree(aclGetDataBufferAddr(buffer));
            aclDestroyDataBuffer(buffer);
        }
        aclmdlDestroyDataset(dataset);
    }
    aclError Unload() {
        aclError ret = aclmdlUnload(modelId_);
        aclmdlDestroyDesc(desc_);
        aclrtFree(workPtr_);
        aclrtFree(weightPtr_);
        return ret;
    }
    uint32_t modelId_ = 0;
    aclmdlDesc *desc_ = nullptr;
    size_t workSize_ = 0, weightSize_ = 0;
    void *workPtr_ = nullptr, *weightPtr_ = nullptr;
};

int main(int, char **argv) {
    aclrtContext context = nullptr;
    aclrtStream stream = nullptr;
    if (aclInit(nullptr) != ACL_SUCCESS || aclrtSetDevice(0) != ACL_SUCCESS) return 1;
    aclrtCreateContext(&context, 0);
    aclrtCreateStream(&stream);
    ModelProcess model;
    if (!model.Load(argv[1])) return 1;
    aclmdlDataset *input = model.Dataset(true), *output = model.Dataset(false);
    aclError ret = aclmdlExecuteAsync(model.modelId_, input, output, stream);
    std::printf("execute async %d, sync %d\n", ret, aclrtSynchronizeStream(stream));
    aclDataBuffer *first = aclmdlGetDatasetBuffer(output, 0);
    std::vector<float> host(aclGetDataBufferSizeV2(first) / sizeof(float));
    aclrtMemcpy(host.data(), host.size() * sizeof(float), aclGetDataBufferAddr(first),
                aclGetDataBufferSizeV2(first), ACL_MEMCPY_DEVICE_TO_HOST);
    std::printf("output 0 of %s: %zu floats\n", aclmdlGetOutputNameByIndex(model.desc_, 0), host.size());
    model.Release(input);
    model.Release(output);
    std::printf("unload %d\n", model.Unload());
    aclrtDestroyStream(stream);
    aclrtDestroyContext(context);
    aclrtResetDevice(0);
    std::printf("finalize %d\n", aclFinalize());
    return 0;
}
