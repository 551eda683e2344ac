package io.jsock.server;

import io.jsock.Errno;
import io.jsock.SocketError;
import io.jsock.internal.Errors;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.ZoneId;

/**
 * What an intake loop does when {@code accept} (or {@code receive}) fails, as it does when the
 * process runs out of file descriptors (EMFILE, ENFILE): log it, at most once a second, and wait 10
 * ms, doubling up to 1 s while the failures go on, so that the loop neither spins nor gives up;
 * then say so once it works again.
 */
final class Backoff {
  private static final Duration FIRST = Duration.ofMillis(10);
  private static final Duration MOST = Duration.ofSeconds(1);

  private final Lifecycle lifecycle;
  private final String operation;
  private final String again;
  private final ThrottledLog failures = new ThrottledLog(Level.WARNING);
  private Duration next = FIRST;
  private boolean failing;

  /**
   * @param operation what failed and where, as in the failure's message: {@code accept on
   *     127.0.0.1:12345}
   * @param again what the loop does when it goes on: {@code accepting again}
   */
  Backoff(Lifecycle lifecycle, String operation, String again) {
    this.lifecycle = lifecycle;
    this.operation = operation;
    this.again = again;
    loadFailurePath(operation);
  }

  /**
   * Goes through the failure path once, translating an EMFILE as {@code accept} would, so that its
   * classes are loaded while descriptors are free (a server makes its backoff before its loop
   * starts). Loaded from a directory of class files (as in tests and IDEs), each class takes a
   * descriptor to read, and the first failure for want of them would end the loop with a {@code
   * NoClassDefFoundError} instead of reporting it.
   */
  private static void loadFailurePath(String operation) {
    Errors.translate(new IOException("Too many open files"), operation, null);
    ZoneId.systemDefault(); // the JDK's default log format reads the time zones from a file once
  }

  /** After a failure: logs it and waits; true if the server began to stop meanwhile. */
  boolean waitAfter(Exception failure) {
    if (failure instanceof SocketError error && error.errno() == Errno.ECONNABORTED) {
      return false; // a client gave up before it was accepted: nothing to wait for
    }
    return waitAfter(failure.getMessage());
  }

  /**
   * After a failure that is not the socket's, an {@link Error} such as an {@link OutOfMemoryError}
   * as the loop receives or hands work over to a new thread (the work dropped): logs it and waits,
   * so that the loop goes on once memory is free again rather than end while the server still says
   * it runs; true if the server began to stop meanwhile.
   */
  boolean waitAfterError(Throwable failure) {
    return waitAfter(operation + ": " + failure);
  }

  private boolean waitAfter(String message) {
    failing = true;
    failures.log(message + "; " + again + " in " + next.toMillis() + " ms");
    boolean stopping = lifecycle.stopsWithin(next);
    next = next.multipliedBy(2).compareTo(MOST) > 0 ? MOST : next.multipliedBy(2);
    return stopping;
  }

  /** Tells the failures the once-a-second lines have left out since the last, if any. */
  void flush() {
    failures.flush();
  }

  /** After a success: the next wait is the shortest again, and the recovery is logged once. */
  void succeeded() {
    if (failing) {
      failures.flush();
      ServerLog.log(Level.INFO, operation + ": " + again);
      failing = false;
      next = FIRST;
    }
  }
}
