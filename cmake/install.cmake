# `cmake --install build --prefix P` installs the library others link:
#   P/lib/libdfbench.a                 every layer's objects (methods, baselines, backbones and
#                                      datasets register themselves, so it links whole)
#   P/include/dfbench/<layer>/*.h      the headers, included as "rollout/method.h" etc.
#   P/lib/cmake/dfbench/               find_package(dfbench): the imported target dfbench::dfbench
#   P/bin/dfbench                      the CLI
# examples/external_baseline/ is a project built against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dfbench_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS dfbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(layer ${DFB_LAYERS})
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/${layer}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dfbench/${layer}
          FILES_MATCHING PATTERN "*.h")
endforeach()

set(DFB_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dfbench)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/dfbenchConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/dfbenchConfig.cmake INSTALL_DESTINATION ${DFB_CONFIG_DIR}
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/dfbenchConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/dfbenchConfig.cmake ${CMAKE_BINARY_DIR}/dfbenchConfigVersion.cmake
        DESTINATION ${DFB_CONFIG_DIR})
