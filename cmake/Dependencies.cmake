# Every dependency comes from a Debian package; a missing one stops configuration with the
# package to install (scripts/setup installs them all).
include(FindPkgConfig)

macro(gk_require found_var debian_package what)
  if(NOT ${found_var})
    message(FATAL_ERROR "${what} not found: install the Debian package '${debian_package}' "
                        "(or run scripts/setup)")
  endif()
endmacro()

find_package(PkgConfig)
gk_require(PKG_CONFIG_FOUND pkg-config "pkg-config")

find_package(cppzmq QUIET)
gk_require(cppzmq_FOUND "cppzmq-dev libzmq3-dev" "cppzmq (ZeroMQ C++ binding)")

find_package(msgpack-cxx QUIET)
if(NOT msgpack-cxx_FOUND)
  find_package(msgpack QUIET)
endif()
if(TARGET msgpack-cxx)
  set(GK_MSGPACK_TARGET msgpack-cxx)
elseif(TARGET msgpackc-cxx)
  set(GK_MSGPACK_TARGET msgpackc-cxx)
endif()
gk_require(GK_MSGPACK_TARGET libmsgpack-cxx-dev "msgpack-c C++ API")

pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
gk_require(HIREDIS_FOUND libhiredis-dev "hiredis")

find_package(spdlog QUIET)
gk_require(spdlog_FOUND libspdlog-dev "spdlog")

find_package(tomlplusplus QUIET)
gk_require(tomlplusplus_FOUND libtomlplusplus-dev "toml++")

find_package(nlohmann_json QUIET)
gk_require(nlohmann_json_FOUND nlohmann-json3-dev "nlohmann-json")

pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
gk_require(HTTPLIB_FOUND libcpp-httplib-dev "cpp-httplib")

find_package(prometheus-cpp QUIET)
gk_require(prometheus-cpp_FOUND prometheus-cpp-dev "prometheus-cpp")

find_package(OpenSSL QUIET)
gk_require(OPENSSL_FOUND libssl-dev "OpenSSL (libcrypto, for unsubscribe link tokens)")

# The message loop's status cache (absl::flat_hash_map).
find_package(absl QUIET)
gk_require(absl_FOUND libabsl-dev "Abseil")

find_package(Threads REQUIRED)

if(GK_BUILD_TESTS)
  find_package(Catch2 QUIET)
  gk_require(Catch2_FOUND catch2 "Catch2")
endif()
