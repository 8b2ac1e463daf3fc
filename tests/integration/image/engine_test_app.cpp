// engine-test-app: the program in the images the engine integration tests
// build (static, alone in a FROM scratch image).
//   app exit N   writes "to stdout" to stdout and "to stderr" to stderr, exits N
//   app wait     writes "waiting", then waits for SIGTERM: writes "got SIGTERM"
//                and exits 42
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

void say(int fd, const char* text) {
  const ssize_t ignored = ::write(fd, text, std::strlen(text));
  (void)ignored;
}

void on_sigterm(int) {
  say(1, "got SIGTERM\n");
  ::_exit(42);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "exit") == 0) {
    say(1, "to stdout\n");
    say(2, "to stderr\n");
    return std::atoi(argv[2]);
  }
  if (argc == 2 && std::strcmp(argv[1], "wait") == 0) {
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    ::sigaction(SIGTERM, &sa, nullptr);
    say(1, "waiting\n");
    for (;;) ::pause();
  }
  say(2, "usage: app exit N | app wait\n");
  return 2;
}
