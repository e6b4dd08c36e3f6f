// core/device.h — where a tensor's memory lives.
#pragma once

#include <ostream>

namespace ta {

enum class Device { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
inline std::ostream& operator<<(std::ostream& os, Device d) { return os << device_name(d); }

}  // namespace ta
