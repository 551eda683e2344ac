package io.jsock.cli;

import java.util.logging.LogManager;

/**
 * The command line's {@code java.util.logging} manager: the JDK's, except that the JVM's exit does
 * not take the handlers away. The JDK's manager resets itself in a shutdown hook of its own, which
 * runs beside {@code jsock echo}'s stop ({@link EchoCommand}): every handler, {@link StderrLog}
 * among them, was gone as the grace period began, so nothing the server logged during its last five
 * seconds (a connection failing, a refusal left to tell) reached stderr. Set by {@link Main#main}
 * before anything logs; public, with a public constructor, as {@link LogManager} asks of the class
 * named by {@code java.util.logging.manager}.
 */
public final class ShutdownSafeLogManager extends LogManager {
  /** The JDK's hook that resets the manager as the JVM exits ({@code LogManager.Cleaner}). */
  private static final String CLEANER = LogManager.class.getName() + "$Cleaner";

  /** Made by {@link LogManager} itself, from the system property {@link Main#main} sets. */
  public ShutdownSafeLogManager() {}

  @Override
  public void reset() {
    if (Thread.currentThread().getClass().getName().equals(CLEANER)) {
      return; // the JVM exits: the handlers stay until it halts, the server's last lines with them
    }
    super.reset();
  }
}
