# ccache, where installed (scripts/setup installs it): every build compiles through it, the release
# build as well as the asan and fuzz presets. Paths under the source tree are hashed relative to
# it and the build directory's own path is not hashed, so a second clone of the same commit in
# another directory (a CI run) hits the cache; an empty cache only costs the look-ups. What still
# differs between clones misses, as it must: the -D paths of data_lookup.cpp and the unit tests.
# (Debug info of a hit names the directory of the build that filled the cache.)
# Off with -DFABRICBENCH_CCACHE=OFF, or by giving CMAKE_<LANG>_COMPILER_LAUNCHER yourself.
option(FABRICBENCH_CCACHE "Compile through ccache when it is installed" ON)
if(FABRICBENCH_CCACHE)
  find_program(FB_CCACHE ccache)
  if(FB_CCACHE)
    foreach(lang CXX CUDA)
      if(NOT CMAKE_${lang}_COMPILER_LAUNCHER)
        set(CMAKE_${lang}_COMPILER_LAUNCHER env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1 ${FB_CCACHE})
      endif()
    endforeach()
  endif()
endif()
