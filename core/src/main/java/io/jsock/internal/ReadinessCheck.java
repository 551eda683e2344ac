package io.jsock.internal;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Answers whether a channel is ready to read now, on the selector poller's path, through one
 * selector kept for the question: the JDK has no other way to learn of a stream's end or a reset
 * without reading (its channel's stream answers {@code available()} with the bytes queued only). It
 * opens with the pollers, so that the question never needs a descriptor: a selector opened per
 * question failed at the process's descriptor limit, and took every stream for silent.
 */
final class ReadinessCheck {
  private final Selector selector;

  /** One question at a time: each leaves the selector empty for the next. */
  private final ReentrantLock asking = new ReentrantLock();

  /** The channel of the question in flight, from before its registration to after its flush. */
  private volatile SelectableChannel asked;

  private ReadinessCheck(Selector selector) {
    this.selector = selector;
  }

  /** Opens the selector (two file descriptors: an epoll instance and an eventfd). */
  static ReadinessCheck open() throws IOException {
    return new ReadinessCheck(Selector.open());
  }

  /**
   * Whether {@code channel}, open and non-blocking, is ready to read: data queued, the end of the
   * stream, or a reset, which a reader meets as soon as it reads. False once it is closed. A
   * channel may be registered with several selectors, so one the poller holds may be asked too.
   */
  boolean isReadable(SelectableChannel channel) throws IOException {
    asking.lock();
    try {
      asked = channel; // before the registration: see awaitAnswered
      SelectionKey key;
      try {
        key = channel.register(selector, SelectionKey.OP_READ);
      } catch (ClosedChannelException e) {
        return false; // closed meanwhile: nothing a reader could still take
      }
      try {
        return selector.selectNow() > 0;
      } finally {
        // The select drops the cancelled key: the channel may be registered again by the next
        // question, and a close meanwhile releases its descriptor now, not at some later select.
        key.cancel();
        selector.selectNow();
      }
    } finally {
      asked = null;
      asking.unlock();
    }
  }

  /**
   * Waits until a question about {@code channel}, which has just been closed, has ended. The JDK
   * closes a channel's descriptor only once no selector holds it, at the select that drops its key:
   * a close that met another thread's question would otherwise return with the descriptor open (a
   * close with {@code SO_LINGER} 0 not yet a reset) until that question's flush. Only then does the
   * close take the lock: it waits for the one question it met (and any that took the lock first),
   * never while nothing asks about its channel.
   *
   * <p>A question that registered the channel wrote {@link #asked} before, and its registration
   * came before the close's cancelling of the channel's keys (both hold the channel's key lock; a
   * registration after it finds the channel closed), so the close, reading {@link #asked} after,
   * sees it.
   */
  void awaitAnswered(SelectableChannel channel) {
    if (asked != channel) {
      return;
    }
    asking.lock();
    asking.unlock(); // the question that held it has flushed the channel's key
  }

  void close() throws IOException {
    selector.close();
  }
}
