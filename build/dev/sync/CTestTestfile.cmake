# CMake generated Testfile for 
# Source directory: /work/main/sync
# Build directory: /work/main/build/dev/sync
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
