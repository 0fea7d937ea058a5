// outpost-linksim: the link simulator as a program, for tests that run hub and site as separate
// processes. It listens, prints "listening ADDR:PORT" as its first line on stdout (flushed, so a
// test can read the port chosen for --listen 127.0.0.1:0), and proxies each connection to the
// target through a simulated satellite link (see link_sim.h).
//
//   outpost-linksim --target 127.0.0.1:8443 --latency-ms 300 --rate-kbps 256
//                   --cut-random-mean 500000 --seed 7 --log links.log
//
// It runs until --max-connections connections have ended, or SIGINT / SIGTERM.
// Exit codes: 0 done, 1 could not start (address in use, log not writable), 2 bad usage.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <thread>

#include "linksim/link_sim.h"

namespace {

using outpost::Status;
using outpost::linksim::Config;
using outpost::linksim::LinkSim;
using outpost::linksim::ParseHostPort;

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

// CLI11 validator for HOST:PORT.
CLI::Validator HostPort() {
  return CLI::Validator(
      [](std::string& text) {
        std::string host;
        uint16_t port = 0;
        Status st = ParseHostPort(text, &host, &port);
        return st.ok() ? std::string() : st.message();
      },
      "");  // no description: the options name their type, HOST:PORT
}

void AddOptions(CLI::App& app, Config& config, std::string& listen, std::string& target) {
  app.add_option("--listen", listen,
                 "ADDR:PORT to listen on; port 0 picks one (default 127.0.0.1:0)")
      ->check(HostPort())
      ->type_name("ADDR:PORT");
  app.add_option("--target", target, "HOST:PORT to forward each connection to")
      ->required()
      ->check(HostPort())
      ->type_name("HOST:PORT");
  app.add_option("--latency-ms", config.latency_ms, "one-way delay added to each direction");
  app.add_option("--rate-kbps", config.rate_kbps,
                 "bandwidth cap per direction in kbit/s (1 kbit = 1000 bits); 0: unlimited");
  app.add_option("--cut-after", config.cut_after,
                 "reset each connection once this many bytes have passed, both directions "
                 "added; 0: never");
  app.add_option("--cut-random-mean", config.cut_random_mean,
                 "also reset each connection at a random byte count, exponentially distributed "
                 "with this mean; 0: never");
  app.add_option("--seed", config.seed,
                 "seed for all randomness; connection k draws from (seed, k)");
  app.add_option("--max-connections", config.max_connections,
                 "exit after this many connections have ended; 0: run until a signal");
  app.add_option("--flip-at", config.flip_to_client_at,
                 "flip the lowest bit of the byte at this 1-based offset of each connection's "
                 "target-to-client stream (a tampering link)");
  app.add_option("--log", config.log_path,
                 "append one line per connection (bytes each way, how it ended) to this file");
}

int Run(const Config& config) {
  // SIGINT and SIGTERM stop the simulator: blocked here (the io thread inherits the mask) and
  // taken by a thread that waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto sim = LinkSim::Start(config);
  if (!sim) {
    std::fprintf(stderr, "outpost-linksim: %s\n", sim.error().message().c_str());
    return kExitFailure;
  }
  std::printf("listening %s\n", (*sim)->listen_address().c_str());
  std::fflush(stdout);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    (*sim)->Stop();
  });
  (*sim)->Wait();
  pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper if no signal came
  stopper.join();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"outpost-linksim: a TCP proxy that simulates a slow, lossy satellite link."};
  Config config;
  std::string listen = "127.0.0.1:0", target;
  AddOptions(app, config, listen, target);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  // Both parse: the validators said so.
  (void)ParseHostPort(listen, &config.listen_host, &config.listen_port);
  (void)ParseHostPort(target, &config.target_host, &config.target_port);
  return Run(config);
}
