# CMake generated Testfile for 
# Source directory: /work/main/content
# Build directory: /work/main/build/dev/content
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build/dev/content/content_test[1]_include.cmake")
