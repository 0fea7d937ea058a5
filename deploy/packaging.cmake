# The Debian package of Outpost (CPack's DEB generator, from the install rules below), for the
# machine built for: amd64, or arm64 with deploy/cmake/arm64-toolchain.cmake. deploy/package.sh
# builds it; tests/package/package_test.sh installs, upgrades, removes and purges it in a clean
# Debian 12 root. What goes where, and why: docs/install.md ("What the package installs").
#
# The install rules are what a Debian maintainer's debian/rules would use too (dh_auto_install
# runs `cmake --install`); CPack makes the .deb from them without rebuilding (decision 59).
include(GNUInstallDirs)

set(OUTPOST_DEB_VERSION "${PROJECT_VERSION}-1" CACHE STRING
    "the Debian version of the package (upstream-revision)")
set(deb ${PROJECT_SOURCE_DIR}/deploy/debian)

install(TARGETS outpost RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${deb}/outpost.service ${deb}/outpost.socket DESTINATION lib/systemd/system)
install(FILES ${deb}/outpost.toml DESTINATION /etc/outpost)
install(FILES ${deb}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB user_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${user_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# outpost(1), from the binary's own --help (deploy/make-man.sh; help2man: install-deps --package)
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(man ${CMAKE_CURRENT_BINARY_DIR}/outpost.1.gz)
  add_custom_command(
    OUTPUT ${man}
    COMMAND ${PROJECT_SOURCE_DIR}/deploy/make-man.sh ${man} $<TARGET_FILE:outpost>
            ${CMAKE_CROSSCOMPILING_EMULATOR}
    DEPENDS outpost ${PROJECT_SOURCE_DIR}/deploy/make-man.sh
    COMMENT "Writing outpost(1) from --help"
    VERBATIM)
  add_custom_target(outpost_man DEPENDS ${man})
  install(FILES ${man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
endif()

# Who answers for the package: whoever publishes it sets this (-DOUTPOST_DEB_MAINTAINER=...).
set(OUTPOST_DEB_MAINTAINER "Outpost developers <outpost@schools.example>" CACHE STRING
    "the package's Maintainer field and changelog signature")
# The Debian changelog a binary package carries (policy 12.7), from the version.
string(TIMESTAMP deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian
     "outpost (${OUTPOST_DEB_VERSION}) bookworm; urgency=medium\n\n"
     "  * Outpost ${PROJECT_VERSION}: see /usr/share/doc/outpost/README.md.\n\n"
     " -- ${OUTPOST_DEB_MAINTAINER}  ${deb_date}\n")
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz
  COMMAND gzip -9n -c ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian > changelog.Debian.gz
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
  VERBATIM)
add_custom_target(outpost_changelog DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR}
        OPTIONAL)

if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
endif()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME outpost)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
string(REGEX REPLACE "-[^-]*$" "" deb_upstream "${OUTPOST_DEB_VERSION}")
string(REGEX REPLACE "^.*-" "" deb_revision "${OUTPOST_DEB_VERSION}")
set(CPACK_PACKAGE_VERSION ${deb_upstream})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${deb_revision})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${OUTPOST_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION education)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first learning content server for schools")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents these lines and turns the
# empty one into Debian's " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Outpost serves a national curriculum and teachers' own material to learners'
phones over a school's local Wi-Fi, with no internet at all, and reconciles
with a central hub whenever a link appears (a satellite hour, a 3G dongle) or
a coordinator brings a USB stick. Versions are signed; sync is encrypted and
sends only what changed.

This package runs Outpost as a hardened systemd service on port 80, its data
in /var/lib/outpost and its settings in /etc/outpost/outpost.toml.")
# Libraries from dpkg-shlibdeps; the rest: the user (adduser), the units (systemd).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "hostapd, dnsmasq, avahi-daemon")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${deb}/conffiles;${deb}/postinst;${deb}/prerm;${deb}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
