package io.jsock.internal;

/**
 * Runs a call that blocks in the kernel or in libc (a lingering {@code close(2)}, a resolver's
 * lookup) on a platform thread of its own when the caller is a virtual thread, and waits for it
 * parked: a virtual thread blocked there would hold its carrier (and, with one carrier, every other
 * virtual thread) for as long. The call still returns only when the blocking one has; an interrupt
 * does not end the wait, and is kept. A platform thread makes the call itself.
 */
public final class OffCarrier {
  private OffCarrier() {}

  /** A call that may throw {@code E}. */
  @FunctionalInterface
  public interface Call<T, E extends Exception> {
    /** Makes the call. */
    T call() throws E;
  }

  /**
   * The call's result, made on a thread named {@code name} if the caller is virtual (or here, if no
   * thread can be had).
   */
  @SuppressWarnings("unchecked")
  public static <T, E extends Exception> T call(String name, Call<T, E> call) throws E {
    if (!Thread.currentThread().isVirtual()) {
      return call.call();
    }
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread thread;
    try {
      thread =
          Thread.ofPlatform()
              .daemon()
              .name(name)
              .start(
                  () -> {
                    try {
                      result[0] = call.call();
                    } catch (Throwable e) {
                      failure[0] = e;
                    }
                  });
    } catch (OutOfMemoryError noThread) { // none to be had: call here, holding the carrier
      return call.call();
    }
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure[0] instanceof RuntimeException e) {
      throw e;
    }
    if (failure[0] instanceof Error e) {
      throw e;
    }
    if (failure[0] != null) {
      throw (E) failure[0];
    }
    return (T) result[0];
  }
}
