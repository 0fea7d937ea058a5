// parse_bench: how many request heads a second the transport's parser turns into a Request,
// on one core, for a typical head a phone's Chromium sends for a lesson page (bench/parser.sh).
// The time covers what the transport does per head before routing: finding the end of the
// head and parsing it into method, target, path, query and headers.
//
// Usage: parse_bench [ITERATIONS] [RUNS]   (defaults 1000000 and 5; prints the median run)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/http_transport.h"

namespace {

// Chromium 120 on Android over plain HTTP (no client hints: those need a secure context).
const std::string kHead =
    "GET /c/bench-serve/unit-2/lesson-4.html?from=topic HTTP/1.1\r\n"
    "Host: 192.168.4.1:8080\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Referer: http://192.168.4.1:8080/t/bench-serve/unit-2/\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7\r\n"
    "If-None-Match: \"b3a1c9d0e2f4a6b8\"\r\n"
    "\r\n";

// One head, as the transport parses it: the whole head, its empty line included, goes to
// Beast's parser, which finds its end itself (before decision 31 the transport searched for
// the empty line, then parsed the head). Returns the number of headers and parameters, so that
// nothing is elided.
size_t ParseOne(const outpost::http::HeadLimits& limits) {
  outpost::http::Request req;
  int status = outpost::http::ParseRequestHead(kHead, limits, &req);
  if (status != 0) {
    std::fprintf(stderr, "parse_bench: the head was refused with %d\n", status);
    std::exit(1);
  }
  return req.headers.size() + req.params.size();
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 1000000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  if (iterations <= 0 || runs <= 0) {
    std::fprintf(stderr, "usage: parse_bench [ITERATIONS] [RUNS]\n");
    return 2;
  }
  outpost::http::HeadLimits limits;
  std::vector<double> rates;
  size_t sink = 0;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) sink += ParseOne(limits);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rates.push_back(static_cast<double>(iterations) / took.count());
  }
  std::sort(rates.begin(), rates.end());
  std::printf("{\"head_bytes\":%zu,\"iterations\":%ld,\"runs\":%d,\"heads_per_s\":%.0f,"
              "\"best\":%.0f,\"check\":%zu}\n",
              kHead.size(), iterations, runs, rates[rates.size() / 2], rates.back(), sink);
  return 0;
}
