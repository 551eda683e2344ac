package io.jsock.cli;

import java.io.IOException;

/**
 * Echoes a connection still waited for when no echoed byte had come for {@code --timeout} since the
 * run stopped: the server kept them.
 */
final class EchoTimeoutException extends IOException {
  private static final long serialVersionUID = 1L;

  /** {@code waitingFor} says what, as "1 of its messages" or "its echo". */
  EchoTimeoutException(int connection, String waitingFor, LoadPlan plan) {
    super(
        "recv from "
            + Diagnostics.where(plan.server())
            + ": connection "
            + connection
            + " was still waiting for "
            + waitingFor
            + " after "
            + ShortDuration.format(plan.timeout())
            + " without an echoed byte since the run stopped (--timeout)");
  }
}
