package io.jsock.cli;

/** The exit codes of {@code jsock}, one per kind of failure a script may want to tell apart. */
enum ExitCode {
  OK(0),
  FAILURE(1),
  USAGE(2),
  REFUSED(3),
  TIMEOUT(4),
  TLS(5),
  UNKNOWN_HOST(6),
  ADDRESS_IN_USE(7),
  INTERRUPTED(130);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  int code() {
    return code;
  }
}
