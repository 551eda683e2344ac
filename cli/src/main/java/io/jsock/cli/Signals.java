package io.jsock.cli;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * SIGINT (Ctrl-C) and SIGTERM in the {@code jsock} process: the first ends it as the JVM's own
 * handler would, by {@link System#exit} with 128 plus the signal's number (130, 143), which runs
 * the shutdown hooks, {@code jsock echo}'s graceful stop among them; a second one during those
 * hooks forces the exit, as pressing Ctrl-C again does in most servers (Python's {@code
 * socketserver} raises {@code KeyboardInterrupt} again). The JVM's handler would call {@code
 * System.exit} again, which waits behind the running hooks for as long as they take: the whole
 * grace period.
 *
 * <p>A second signal interrupts the hooks given to {@link #interruptOnSecondSignal} (a server's
 * stop then resets the connections still open and returns) and halts the process with its own
 * status after {@link #BACKSTOP} whatever the hooks do; a third halts it at once. A signal the
 * process was started with ignored ({@code nohup}, a script's {@code &}) stays ignored, and with
 * {@code -Xrs} the JVM leaves both to the system, as before.
 */
final class Signals {
  /** How long the hooks have to end after a second signal before the process halts anyway. */
  private static final Duration BACKSTOP = Duration.ofSeconds(3);

  private static final AtomicInteger received = new AtomicInteger();
  private static final Set<Thread> interruptible = ConcurrentHashMap.newKeySet();

  /** 128 plus the second signal's number once one came; 0 before. */
  private static volatile int forcedStatus;

  private Signals() {}

  /** Takes SIGINT and SIGTERM over from the JVM; called once, by {@link Main#main}. */
  static void install() {
    for (String name : List.of("INT", "TERM")) {
      try {
        Signal.handle(new Signal(name), Signals::received);
      } catch (IllegalArgumentException e) {
        // -Xrs: the JVM registers no handler for these signals, and neither does jsock
      }
    }
  }

  /**
   * Has a second signal interrupt {@code hook}, a shutdown hook that may take long (a graceful
   * stop), which should then end what is left at once.
   */
  static void interruptOnSecondSignal(Thread hook) {
    interruptible.add(hook);
  }

  /** Whether a second signal has come: a stop that starts now should not wait. */
  static boolean isForced() {
    return forcedStatus != 0;
  }

  /** The exit status of a stop that ends the process: {@code orderly}, unless it was forced. */
  static int exitStatus(int orderly) {
    int forced = forcedStatus;
    return forced != 0 ? forced : orderly;
  }

  /** Runs on a thread of its own for each signal, as the JVM's handlers do. */
  private static void received(Signal signal) {
    int status = 128 + signal.getNumber();
    switch (received.incrementAndGet()) {
      case 1 -> System.exit(status); // the JVM's own handler: the hooks, then 130 or 143
      case 2 -> force(status);
      default -> Runtime.getRuntime().halt(status);
    }
  }

  private static void force(int status) {
    forcedStatus = status; // before the interrupts: a hook that sees one sees the status
    interruptible.forEach(Thread::interrupt);
    try {
      Thread.sleep(BACKSTOP);
    } catch (InterruptedException e) {
      // halts now
    }
    Runtime.getRuntime().halt(status);
  }
}
