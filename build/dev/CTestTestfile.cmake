# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build/dev
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("content")
subdirs("sync")
subdirs("server")
subdirs("demo")
subdirs("bench")
subdirs("tests")
