# Included at every project() call of the llama-cpp-python build (CMAKE_PROJECT_INCLUDE_BEFORE, set by
# scripts/setup.sh). llama-cpp-python's CMakeLists forces LLAMA_BUILD_COMMON=ON as a cache variable; the Python
# bindings load only libllama and libggml* (ctypes), never llama-common (the CLI tools' argument parser, chat
# templates, JSON, downloads over HTTPS). Under CMake policy CMP0126 (NEW from 3.21, which the project requires)
# a normal variable shadows that cache entry, so llama.cpp's `if (LLAMA_BUILD_COMMON)` sees OFF and skips
# common/ and cpp-httplib. The multimodal library (mtmd) is switched off with -DLLAVA_BUILD=OFF beside this file;
# llama_cpp imports it only for image chat handlers, which the app never uses.
set(LLAMA_BUILD_COMMON OFF)
set(LLAMA_OPENSSL OFF)
