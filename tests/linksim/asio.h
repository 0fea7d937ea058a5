// The one way into Boost.Asio for the link simulator and its tests.
//
// Boost 1.74's <boost/asio/awaitable.hpp> uses std::exchange without including <utility>, which
// g++ 12's headers no longer pull in on the way; so <utility> comes first here, and no file
// includes an Asio header directly.
#pragma once

#include <utility>

// After <utility> (see above): keep these apart so that include sorting cannot reorder them.
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
