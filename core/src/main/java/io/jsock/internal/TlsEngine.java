package io.jsock.internal;

import io.jsock.Errno;
import io.jsock.SocketError;
import io.jsock.tls.TlsException;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * The TLS record layer of one socket: an {@link SSLEngine} driven over the socket's non-blocking
 * channel. The socket hands in its raw reads, writes and readiness waits as a {@link Wire}, so
 * timeouts and non-blocking mode keep the socket's semantics.
 *
 * <p>Receiving and sending have a lock each, as {@code SSLEngine} allows {@code unwrap} and {@code
 * wrap} to run at once: one thread may receive while another sends. Lock order is always receive
 * before send (a receiver answers a TLS 1.3 KeyUpdate by wrapping); a sender never waits for the
 * receive lock.
 *
 * <p>Buffers: {@code netIn} holds received records not yet unwrapped, {@code appIn} plaintext not
 * yet handed to the caller (both kept in read mode between calls), {@code netOut} records not yet
 * written. All three are allocated once, from the session's sizes; the data path allocates nothing
 * beyond what {@code SSLEngine} itself does.
 */
public final class TlsEngine {
  /** How often a sender waiting to take part in a renegotiation checks whether it still must. */
  private static final long RENEGOTIATION_POLL = TimeUnit.MILLISECONDS.toNanos(10);

  /** How long {@link #close} tries to get close_notify out before it closes anyway. */
  private static final long CLOSE_NOTIFY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  /**
   * The socket's side of the engine: raw non-blocking I/O on its channel and its waits. Errors come
   * out already translated into jsock's exceptions.
   */
  public interface Wire {
    /** Reads what the channel has: the count, 0 if nothing is there yet, -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes what the channel takes now: the count, maybe 0. */
    int write(ByteBuffer src) throws IOException;

    /**
     * Waits for readiness in the call's mode, read when the call started (another thread may have
     * changed the socket's since): {@code WouldBlockException} if it was non-blocking, {@code
     * SocketTimeoutException} once the deadline has passed.
     */
    void await(int op, long deadline, boolean nonBlocking, String operation) throws IOException;

    /** Waits for readiness until the deadline whatever the mode, for the handshake and close. */
    void awaitUntil(int op, long deadline, String operation) throws IOException;

    /** A send's timeout, to throw: the socket notes that its peer has stopped reading. */
    java.net.SocketTimeoutException sendTimedOut(String operation);

    /** The peer, for messages. */
    SocketAddress peer();
  }

  /**
   * How a call waits for the socket, fixed when it starts: a receive or send keeps the mode it was
   * called in when another thread changes the socket's, as Python's (whose waits take the timeout
   * read at the call) and jsock's plain calls do.
   */
  private enum Waits {
    /** Blocking or timeout mode: until the deadline, if any. */
    UNTIL_DEADLINE,
    /** Non-blocking mode: never; {@code WouldBlockException} instead. */
    NEVER,
    /** The handshake and close: until the deadline whatever the mode. */
    ALWAYS
  }

  private final SSLEngine engine;
  private final ReentrantLock receiving = new ReentrantLock();
  private final ReentrantLock sending = new ReentrantLock();
  private Wire wire;

  private ByteBuffer netIn; // guarded by receiving
  private ByteBuffer appIn; // guarded by receiving
  private ByteBuffer netOut; // guarded by sending

  /** How many of the caller's bytes the queued record in {@code netOut} holds (sending). */
  private int committed;

  /**
   * Set by a receiver whose answer to a handshake message (a KeyUpdate, a renegotiation) found the
   * send lock taken: the holder may be blocked writing to a peer that waits for us to read, so the
   * receiver does not wait for it, and whoever releases the send lock next sends the answer.
   */
  private volatile boolean answerPending;

  private volatile boolean inboundDone; // close_notify received, or the input's end reached

  /** Set by {@link #shutdownInput}: receives take what has arrived, never wait, then end. */
  private volatile boolean inputShut;

  private volatile boolean outboundDone; // close_notify sent

  /**
   * The failure that ended the input (a truncation, a bad record), reported again by every later
   * receive, as OpenSSL does: the engine has closed its inbound side, and a receive that returned
   * end of stream instead would turn a cut-off connection into an orderly one (guarded by
   * receiving).
   */
  private TlsException inboundFailure;

  /**
   * The second version byte of this session's records, found at the first receive after the
   * handshake; 0 before, -1 if the protocol is not known here (guarded by receiving).
   */
  private int recordMinor;

  /** Whether the session is TLS 1.3, set with {@link #recordMinor} (guarded by receiving). */
  private boolean tls13;

  /** Set by {@link #abort}: {@link #close} sends nothing. */
  private volatile boolean aborted;

  /**
   * Set once {@link #close} has begun: a send that reaches the engine after close's close_notify
   * (it passed the socket's open check first, then waited for the send lock) is refused as a send
   * on a closed socket, not as one after {@code shutdown(SHUT_WR)}.
   */
  private volatile boolean closing;

  /** An engine not yet bound to a socket; its mode (client or server) is already set. */
  public TlsEngine(SSLEngine engine) {
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocateDirect(packet).flip();
    this.netOut = ByteBuffer.allocateDirect(packet).flip();
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
  }

  /** Binds the engine to its socket's wire; called once, by the socket that owns the engine. */
  public void bind(Wire wire) {
    this.wire = wire;
  }

  /** The engine, for the session's details once the handshake is done. */
  public SSLEngine engine() {
    return engine;
  }

  // ---------------------------------------------------------------- handshake

  /**
   * Runs the handshake to its end, waiting until {@code deadline} whatever the socket's mode.
   *
   * @throws io.jsock.tls.TlsException if the handshake fails, with the reason
   */
  public void handshake(long deadline) throws IOException {
    String operation = "tls handshake with";
    receiving.lock();
    sending.lock();
    try {
      engine.beginHandshake();
      while (true) {
        HandshakeStatus status = engine.getHandshakeStatus();
        switch (status) {
          case NEED_WRAP -> {
            wrapOnce(EMPTY);
            flush(deadline, operation, Waits.ALWAYS);
          }
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
            switch (unwrapOnce()) {
              case NEED_DATA -> readMore(deadline, operation, Waits.ALWAYS);
              case CLOSED -> throw closedDuringHandshake(operation);
              case PROGRESS -> {}
            }
          }
          case NEED_TASK -> runTasks();
          case FINISHED, NOT_HANDSHAKING -> {
            // a last flight (or a TLS 1.3 ticket) still queued
            flush(deadline, operation, Waits.ALWAYS);
            return;
          }
        }
      }
    } catch (SSLException e) {
      sendAlert();
      throw Errors.tls(e, operation, wire.peer());
    } catch (IOException e) {
      SSLException alert = alertBeforeReset(e);
      if (alert != null) {
        throw Errors.tls(alert, operation, wire.peer());
      }
      throw duringHandshake(e, operation);
    } finally {
      sending.unlock();
      receiving.unlock();
    }
  }

  /**
   * After a handshake's write met a reset or a broken pipe: the alert the peer sent before it, if
   * it has arrived (a peer that fails the handshake at our first record alerts and closes with the
   * rest of our flight unread, so a reset; OpenSSL writes a flight at once and reads the alert, the
   * JDK's engine gives it record by record). Null if nothing names why.
   */
  private SSLException alertBeforeReset(IOException e) {
    if (!(e instanceof SocketError error)
        || (error.errno() != Errno.ECONNRESET && error.errno() != Errno.EPIPE)) {
      return null;
    }
    ByteBuffer discarded = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    try {
      for (int i = 0; i < 64; i++) { // bounded: what has arrived is a few records at most
        switch (unwrapOnce()) {
          case CLOSED -> {
            return null;
          }
          case NEED_DATA -> {
            if (!readArrived()) {
              return null;
            }
          }
          case PROGRESS -> {
            switch (engine.getHandshakeStatus()) {
              case NEED_TASK -> runTasks();
              // the engine reads nothing until the rest of our flight is out; it goes nowhere
              case NEED_WRAP -> engine.wrap(EMPTY, discarded.clear());
              default -> {}
            }
          }
        }
      }
    } catch (SSLException alert) {
      return Errors.namesAlert(alert) ? alert : null;
    } catch (IOException | RuntimeException ignored) {
      // nothing more to read: the reset is what there is to say
    }
    return null;
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Receives plaintext into {@code dst}: the count, or 0 once the peer's close_notify has arrived.
   * Waits until at least one byte is there, until the deadline, or not at all if {@code
   * nonBlocking} (the socket's mode when the call started).
   */
  public int read(ByteBuffer dst, long deadline, boolean nonBlocking) throws IOException {
    String operation = "recv from";
    Waits waits = nonBlocking ? Waits.NEVER : Waits.UNTIL_DEADLINE;
    lock(receiving, deadline, operation, waits);
    try {
      while (true) {
        if (appIn.hasRemaining()) {
          return transfer(appIn, dst);
        }
        if (inboundFailure != null) {
          throw new TlsException(inboundFailure.getMessage(), wire.peer(), inboundFailure);
        }
        if (inboundDone) {
          return 0;
        }
        checkRecordHeader();
        switch (unwrapOnce()) {
          case CLOSED -> inboundDone = true;
          case NEED_DATA -> {
            if (!inputShut) {
              readMore(deadline, operation, waits);
            } else if (!readArrived()) {
              inboundDone = true; // what had arrived is taken: the end, as on a plain socket
            }
          }
          case PROGRESS -> answerHandshake(deadline, operation, waits);
        }
      }
    } catch (SSLException e) { // a truncation or a bad record: the input is over for good
      inboundFailure = Errors.tls(e, operation, wire.peer());
      inboundDone = true; // so that a selector reports the socket readable, and recv says why
      throw inboundFailure;
    } finally {
      receiving.unlock();
    }
  }

  /**
   * Refuses what {@code netIn} begins with if it is no record of this session, as OpenSSL does
   * (Python's WRONG_VERSION_NUMBER, BAD_RECORD_TYPE) from the header alone: the JDK's engine checks
   * headers only during the handshake, so after it took the "length" of bytes such as {@code GET /}
   * and waited for 8,239 bytes (for ever if the peer waits for an answer), waited for the body of a
   * record of another version or of a TLS 1.3 handshake record sent unencrypted (neither of which
   * it could ever take), or tried to decrypt a record of a type TLS does not have and called it a
   * bad record mac. Three bytes read per record, five on TLS 1.3 (guarded by receiving).
   */
  private void checkRecordHeader() throws SSLException {
    int start = netIn.position();
    if (netIn.remaining() < 3) {
      return;
    }
    int type = netIn.get(start);
    if (netIn.get(start + 1) != 3) { // TLS 1.2 and 1.3 records all say 3.3 (1.0 to 1.3: 3.x)
      StringBuilder begins = new StringBuilder();
      for (int i = start; i < Math.min(netIn.limit(), start + 5); i++) {
        begins.append(begins.isEmpty() ? "" : " ").append("%02x".formatted(netIn.get(i)));
      }
      throw new SSLException(
          "wrong version number: the peer sent something that is no TLS record (it begins "
              + begins
              + ")");
    }
    if (recordMinor == 0) {
      recordMinor = recordMinor(engine.getSession().getProtocol());
    }
    int minor = netIn.get(start + 2) & 0xff;
    if (minor != recordMinor && recordMinor > 0) { // OpenSSL takes only the session's version
      throw new SSLException(
          ("wrong version number: the peer sent a record of version 03 %02x, where this %s"
                  + " session's say 03 %02x")
              .formatted(minor, engine.getSession().getProtocol(), recordMinor));
    }
    if (type < 20 || type > 23) { // change_cipher_spec, alert, handshake, application_data
      throw new SSLException(
          "bad record type: the peer sent a record of type "
              + (type & 0xff)
              + ", which TLS does not have");
    }
    if (type == 22 && tls13) { // its handshake messages go encrypted (23)
      throw new SSLException(
          "bad record type: the peer sent an unencrypted handshake record after the TLS 1.3"
              + " handshake");
    }
    // TLS 1.3 records are at most 2^14+256 long (RFC 8446, 5.2), as OpenSSL enforces; the JDK's
    // engine refuses only what exceeds its buffer, and waited for a body in between
    if (tls13
        && netIn.remaining() >= 5
        && ((netIn.get(start + 3) & 0xff) << 8 | (netIn.get(start + 4) & 0xff)) > 16384 + 256) {
      throw new SSLException("record overflow: the peer sent a record longer than TLS allows");
    }
  }

  /**
   * The second byte of the version the records of a session of this protocol carry (TLS 1.3's say
   * 3.3, as TLS 1.2's), and sets {@link #tls13}; -1 if the protocol is not known here (then only
   * the first byte is checked).
   */
  private int recordMinor(String protocol) {
    tls13 = "TLSv1.3".equals(protocol);
    return switch (protocol) {
      case "TLSv1.3", "TLSv1.2" -> 3;
      case "TLSv1.1" -> 2;
      case "TLSv1" -> 1;
      default -> -1;
    };
  }

  /**
   * Whether a receive would find something without reading the socket: decrypted bytes not yet
   * taken, a whole record received but not yet decrypted, or the end of the input (orderly, or a
   * failure that the receive reports again). The socket's readiness cannot show these, so a
   * selector asks. False while another thread is receiving, which takes what is there. A whole
   * record may carry no application data (a TLS 1.3 session ticket): the receive that consumes it
   * then finds nothing, a spurious readiness, once.
   */
  public boolean hasBufferedInput() {
    if (!receiving.tryLock()) {
      return false;
    }
    try {
      return appIn.hasRemaining() || inboundDone || inputShut || holdsWholeRecord(netIn);
    } finally {
      receiving.unlock();
    }
  }

  /**
   * The plaintext already decrypted and not yet taken, which a receive returns without reading the
   * socket; records received but still encrypted count for nothing, as in the JDK's {@code
   * SSLSocket}. 0 while another thread is receiving, which takes what is there.
   */
  public int bufferedPlaintext() {
    if (!receiving.tryLock()) {
      return 0;
    }
    try {
      return appIn.remaining();
    } finally {
      receiving.unlock();
    }
  }

  /** Whether the buffer (in read mode) starts with a whole TLS record: 5-byte header, then body. */
  private static boolean holdsWholeRecord(ByteBuffer records) {
    int start = records.position();
    if (records.remaining() < 5) {
      return false;
    }
    int length = (records.get(start + 3) & 0xff) << 8 | (records.get(start + 4) & 0xff);
    return records.remaining() >= 5 + length;
  }

  /**
   * As {@code shutdown(SHUT_RD)} on a plain socket under Linux: later receives still return what
   * has arrived (decrypted, or still on the wire), without waiting, and then 0.
   */
  public void shutdownInput() {
    inputShut = true;
  }

  private enum Progress {
    PROGRESS,
    NEED_DATA,
    CLOSED
  }

  /** One unwrap of what {@code netIn} holds into {@code appIn} (guarded by receiving). */
  private Progress unwrapOnce() throws SSLException {
    appIn.compact();
    SSLEngineResult result;
    try {
      result = engine.unwrap(netIn, appIn);
    } finally {
      appIn.flip();
    }
    return switch (result.getStatus()) {
      case OK ->
          result.bytesConsumed() == 0
                  && result.bytesProduced() == 0
                  && result.getHandshakeStatus() != HandshakeStatus.NEED_TASK
                  && result.getHandshakeStatus() != HandshakeStatus.NEED_WRAP
              ? Progress.NEED_DATA
              : Progress.PROGRESS;
      case BUFFER_UNDERFLOW -> {
        if (netIn.limit() == netIn.capacity() && netIn.position() == 0) {
          netIn = grow(netIn, engine.getSession().getPacketBufferSize());
        }
        yield Progress.NEED_DATA;
      }
      case BUFFER_OVERFLOW -> {
        appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
        yield Progress.PROGRESS;
      }
      case CLOSED -> Progress.CLOSED;
    };
  }

  /**
   * Reads what has arrived into {@code netIn} without waiting: false if nothing has, or the stream
   * has ended (guarded by receiving). After {@code SHUT_RD} only: an end without close_notify is
   * then no truncation, since the caller asked for no more.
   */
  private boolean readArrived() throws IOException {
    netIn.compact();
    try {
      return wire.read(netIn) > 0;
    } finally {
      netIn.flip();
    }
  }

  /**
   * Reads more records into {@code netIn}, waiting when nothing is there (guarded by receiving).
   * Returns without reading, {@code inboundDone} set, if the stream ends after our own {@code
   * shutdown(SHUT_RD)}: a receive waiting when it came then returns the end, as on a plain socket.
   */
  private void readMore(long deadline, String operation, Waits waits) throws IOException {
    boolean handshaking = waits == Waits.ALWAYS;
    while (true) {
      netIn.compact();
      int n;
      try {
        n = wire.read(netIn);
      } finally {
        netIn.flip();
      }
      if (n > 0) {
        return;
      }
      if (n < 0) {
        inboundDone = true;
        if (inputShut && !handshaking) {
          return; // the kernel ended the stream because we shut down reading: not a truncation
        }
        throw handshaking
            ? closedDuringHandshake(operation)
            : Errors.tls(
                new SSLException("connection truncated: the peer closed without close_notify"),
                operation,
                wire.peer());
      }
      await(SelectionKey.OP_READ, deadline, operation, waits);
    }
  }

  /**
   * Answers what a received handshake message asks for after the handshake (a TLS 1.3 KeyUpdate, a
   * TLS 1.2 renegotiation): runs tasks, and wraps under the send lock (guarded by receiving).
   */
  private void answerHandshake(long deadline, String operation, Waits waits) throws IOException {
    if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
      runTasks();
    }
    if (engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP) {
      return;
    }
    // Published before trying the lock, and read by the holder after it lets go (releaseSending):
    // one of the two sends the answer. TLS 1.3 asks only that it go before our next record.
    answerPending = true;
    if (!sending.tryLock()) {
      return;
    }
    if ("TLSv1.3".equals(engine.getSession().getProtocol())) {
      try {
        answerWithoutWaiting();
      } finally {
        sending
            .unlock(); // an answer left pending goes with the next send: the engine wraps it first
      }
      return;
    }
    try {
      answerLocked(deadline, operation, waits);
    } finally {
      releaseSending(deadline, operation, waits);
    }
  }

  /**
   * Sends a TLS 1.3 KeyUpdate's answer as far as the kernel takes it now; called with the send lock
   * held. The answer need only go before our next record, as OpenSSL sends it with the next write:
   * a receiver that waited for room to send it, while the peer, writing and not reading yet, left
   * none, would never read again. What does not go now stays in {@code netOut} (or in the engine,
   * {@code answerPending} still set), and the next send flushes it first.
   */
  private void answerWithoutWaiting() throws IOException {
    while (true) {
      if (netOut.hasRemaining()) {
        wire.write(netOut);
        if (netOut.hasRemaining()) {
          return;
        }
      }
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK -> runTasks();
        case NEED_WRAP -> wrapOnce(EMPTY);
        default -> {
          answerPending = false;
          return;
        }
      }
    }
  }

  /** Sends the answers the engine has waiting; called with the send lock held. */
  private void answerLocked(long deadline, String operation, Waits waits) throws IOException {
    answerPending = false;
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK -> runTasks();
        case NEED_WRAP -> {
          flush(deadline, operation, waits);
          wrapOnce(EMPTY);
          flush(deadline, operation, waits);
        }
        default -> {
          return;
        }
      }
    }
  }

  /**
   * Lets go of the send lock, first sending an answer that a receiver left to us. If sending it
   * fails, it stays queued in the engine and goes before the next record; the failure shows on that
   * next call, so it is not reported here (the caller may be on its way out with an error of its
   * own).
   */
  private void releaseSending(long deadline, String operation, Waits waits) {
    sending.unlock();
    while (answerPending && sending.tryLock()) {
      try {
        if (answerPending) {
          answerLocked(deadline, operation, waits);
        }
      } catch (IOException e) {
        return; // see above: the next send meets it
      } finally {
        sending.unlock();
      }
    }
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends plaintext from {@code src}: everything if {@code all} (as {@code sendAll}, and as a send
   * in blocking or timeout mode, which OpenSSL's {@code SSL_write} without partial writes and so
   * Python's {@code SSLSocket.send} do), else, for a non-blocking send, the records the kernel
   * takes now (at least one, or {@code WouldBlockException}); returns how many bytes went. They
   * count as sent once their record is in the kernel.
   *
   * <p>As with OpenSSL, a record that could not go out whole (non-blocking mode, or the timeout
   * passed) stays queued, and the error leaves {@code src} where it was when the call began: the
   * caller sends the same data again, the queued record goes out first, and the bytes the failed
   * call took (its records that went, and the queued one) are then skipped in {@code src}. A
   * non-blocking send that returns a count with a later record queued leaves {@code src} after the
   * counted bytes: the next send, of the bytes from there, counts the queued record's first (a
   * shorter one counts part of them, and the sends after it the rest). The deadline bounds the
   * waits only: records the kernel takes at once all go, however short the timeout.
   */
  public int write(ByteBuffer src, long deadline, boolean all, boolean nonBlocking)
      throws IOException {
    return write(src, deadline, all, nonBlocking, "send to");
  }

  /**
   * {@link #write(ByteBuffer, long, boolean, boolean)} for a call that names itself otherwise in
   * its errors ({@code "sendfile to"}).
   */
  public int write(
      ByteBuffer src, long deadline, boolean all, boolean nonBlocking, String operation)
      throws IOException {
    if (!src.hasRemaining()) {
      // As Python's sendall(b""), which calls nothing: flushing a queued record here would count
      // its bytes as sent to this empty call, and the retry with the same data would send them
      // again.
      return 0;
    }
    Waits waits = nonBlocking ? Waits.NEVER : Waits.UNTIL_DEADLINE;
    lock(sending, deadline, operation, waits);
    int start = src.position();
    try {
      int sent = 0;
      // What an earlier call queued; an answer to a KeyUpdate may have flushed it meanwhile, but
      // its bytes are still to be skipped in src.
      if (netOut.hasRemaining() || committed > 0) {
        flush(deadline, operation, waits);
        sent = Math.min(committed, src.remaining());
        src.position(src.position() + sent);
        // A shorter buffer uses up part of the record: the next call counts the rest of it. Set
        // to 0 here, the next call sent those bytes again.
        committed -= sent;
        if (!all && sent > 0) {
          return sent;
        }
      }
      try {
        while (src.hasRemaining()) {
          // No deadline check here: the timeout bounds waiting (flush's), as CPython's SSL_write
          // times out only after SSL_ERROR_WANT_WRITE, so records the kernel takes at once all go
          // however short the timeout (checked before each, a send of 64 KiB timed out at 16 KiB).
          int n = wrapOnce(src);
          if (n == 0) {
            // No plaintext taken: the engine wrapped a handshake message first (the answer to a
            // KeyUpdate that a receiver has not sent yet), or waits on the peer's (renegotiation).
            // Sent first either way: waiting on the peer's answer to a message of ours (the
            // ClientHello of a renegotiation) that is still in netOut would wait for ever.
            flush(deadline, operation, waits);
            if (needsUnwrap()) {
              renegotiate(deadline, operation, waits);
            }
            continue;
          }
          if (!all && sent > 0 && !flushesNow()) {
            // A later record of a non-blocking send that the kernel did not take whole: the call
            // returns what went, as send(2) does, and the record stays queued, its bytes the
            // first the next call counts (the caller sends on from where this count leaves it).
            committed = n;
            src.position(src.position() - n);
            break;
          }
          flush(deadline, operation, waits);
          sent += n;
        }
      } catch (IOException e) {
        // As OpenSSL's SSL_write: src is left where it was, and the bytes this call took (records
        // sent, and the one queued) are skipped when the same data is sent again. Left after the
        // records that went, a retry with the same array sent them twice.
        committed = src.position() - start;
        src.position(start);
        throw e;
      }
      return sent;
    } catch (SSLException e) {
      throw Errors.tls(e, operation, wire.peer());
    } finally {
      releaseSending(deadline, operation, waits);
    }
  }

  /**
   * Whether a {@link #write} that failed took some of the caller's bytes (records sent, perhaps one
   * queued, not yet all in the kernel, which goes before the next write's bytes): the next write
   * skips them as sent. For the thread whose write just failed (it set the count, so reads it
   * without the lock).
   */
  public boolean hasQueuedRecord() {
    return committed > 0;
  }

  private boolean needsUnwrap() {
    HandshakeStatus status = engine.getHandshakeStatus();
    return status == HandshakeStatus.NEED_UNWRAP || status == HandshakeStatus.NEED_UNWRAP_AGAIN;
  }

  /**
   * For a sender whose wrap waits on the peer's handshake messages (a TLS 1.2 renegotiation): lets
   * go of the send lock, so that a receiver can answer, and receives them itself if no receiver is
   * there. Plaintext that arrives meanwhile stays in {@code appIn} for the next {@code recv}.
   * Called with the send lock held, returns with it held.
   */
  private void renegotiate(long deadline, String operation, Waits waits) throws IOException {
    sending.unlock();
    try {
      // Receive before send: the lock order. A receiver that holds the lock reads the peer's
      // messages and answers them itself, then waits on for data that may never come: stop waiting
      // for its lock once the handshake no longer needs us.
      while (!tryLock(receiving, RENEGOTIATION_POLL, deadline, operation)) {
        if (!needsUnwrap()) {
          return;
        }
      }
      boolean cutShort = false;
      try {
        while (needsUnwrap() && !cutShort) {
          checkRecordHeader();
          switch (unwrapOnce()) {
            case NEED_DATA -> {
              readMore(deadline, operation, waits);
              cutShort = inboundDone; // reading was shut down: the peer's messages will never come
            }
            case PROGRESS -> answerHandshake(deadline, operation, waits);
            case CLOSED -> {
              inboundDone = true;
              return;
            }
          }
        }
        if (!cutShort) {
          answerHandshake(deadline, operation, waits);
        }
      } catch (SSLException e) { // as in read: the input is over for good, and recv says why
        // in recv's words: a truncation readMore met comes named after this send already
        SSLException reason =
            e instanceof TlsException named && named.getCause() instanceof SSLException cause
                ? cause
                : e;
        inboundFailure = Errors.tls(reason, "recv from", wire.peer());
        inboundDone = true;
        throw e;
      } finally {
        receiving.unlock();
      }
      if (cutShort) { // the send fails; a recv returns the end of the input, as after SHUT_RD
        throw Errors.tls(
            new SSLException("renegotiation cut short: reading was shut down"),
            operation,
            wire.peer());
      }
    } finally {
      sending.lock(); // held only briefly by others: the caller's finally unlocks it
    }
  }

  /**
   * Sends close_notify, as {@code shutdown(SHUT_WR)}: the peer then receives the orderly end of the
   * stream. Waits as the socket's mode says, except for another thread's send: one that still holds
   * the send lock after as long as {@link #close} tries (stuck on a peer that does not read, say)
   * is left to the TCP shutdown that follows, which ends it with {@code EPIPE} as on a plain
   * socket; no close_notify then, since it cannot go in the middle of that thread's record.
   */
  public void shutdownOutput(long deadline, boolean nonBlocking) throws IOException {
    String operation = "shutdown";
    if (!tryLock(sending, CLOSE_NOTIFY_NANOS, deadline, operation)) {
      return;
    }
    try {
      closeOutbound(deadline, operation, nonBlocking ? Waits.NEVER : Waits.UNTIL_DEADLINE);
    } catch (SSLException e) {
      throw Errors.tls(e, operation, wire.peer());
    } finally {
      sending.unlock();
    }
  }

  /**
   * Sends close_notify before the socket closes, as best it can within a short time: a peer that
   * does not read, or another thread stuck sending, must not hold up {@code close()}.
   */
  public void close() {
    closing = true;
    if (aborted) {
      return;
    }
    long deadline = System.nanoTime() + CLOSE_NOTIFY_NANOS;
    // Taken at once if free, whatever the thread's interrupt (a cancelled task closing its socket):
    // the timed wait below would give up at once, and the peer read a truncation (or a reset).
    if (!sending.tryLock()) {
      try {
        if (!sending.tryLock(CLOSE_NOTIFY_NANOS, TimeUnit.NANOSECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    try {
      closeOutbound(deadline, "close", Waits.ALWAYS);
    } catch (IOException e) {
      // best effort, as Python's close(): the connection goes down either way
    } finally {
      sending.unlock();
    }
    discardUnread();
  }

  /**
   * Makes {@link #close} send nothing: for a connection reset on purpose (SO_LINGER 0), whose peer
   * must see the reset rather than an orderly close_notify, and whose close must not wait for a
   * sender stuck on a peer that does not read (the server's shutdown resets many at once).
   */
  public void abort() {
    aborted = true;
  }

  /**
   * Reads and drops what has arrived unread, without waiting: closing a TCP socket with unread data
   * sends a reset instead of a FIN, and a reset can make the peer lose data we sent it (and our
   * close_notify). TLS 1.3 servers send session tickets that a client which never calls {@code
   * recv} leaves unread.
   */
  private void discardUnread() {
    if (!receiving.tryLock()) {
      return; // another thread is receiving: it reads what arrives
    }
    try {
      for (int i = 0; i < 16; i++) {
        netIn.clear();
        if (wire.read(netIn) <= 0) {
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // nothing to do: the socket is closing
    } finally {
      netIn.clear().flip();
      receiving.unlock();
    }
  }

  /**
   * Sends what is queued, then close_notify. Done only once close_notify is out: a call that timed
   * out (or would block) leaves the rest queued, and calling again finishes it, as OpenSSL's {@code
   * SSL_shutdown} is called again after {@code SSL_ERROR_WANT_WRITE}.
   */
  private void closeOutbound(long deadline, String operation, Waits waits) throws IOException {
    if (outboundDone) {
      return;
    }
    flush(deadline, operation, waits);
    engine.closeOutbound();
    // A few rounds at most: close_notify is one record (after an alert, perhaps two).
    for (int round = 0; round < 4 && !engine.isOutboundDone(); round++) {
      wrapOnce(EMPTY);
      flush(deadline, operation, waits);
    }
    outboundDone = true;
  }

  /** Wraps from {@code src} into the empty {@code netOut} (guarded by sending); the bytes taken. */
  private int wrapOnce(ByteBuffer src) throws IOException {
    while (true) {
      netOut.clear();
      SSLEngineResult result;
      try {
        result = engine.wrap(src, netOut);
      } finally {
        netOut.flip();
      }
      switch (result.getStatus()) {
        case BUFFER_OVERFLOW ->
            netOut = grow(netOut, engine.getSession().getPacketBufferSize() + netOut.capacity());
        case CLOSED -> {
          if (result.bytesProduced() > 0) {
            return result.bytesConsumed(); // the close_notify (or an alert) itself
          }
          throw closing
              ? Errors.closed("send to", wire.peer()) // close() sent close_notify meanwhile
              : Errors.of(io.jsock.Errno.EPIPE, "send to", wire.peer());
        }
        default -> {
          if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
            runTasks();
          }
          return result.bytesConsumed();
        }
      }
    }
  }

  /** Writes what of {@code netOut} the channel takes now: whether that was all of it. */
  private boolean flushesNow() throws IOException {
    while (netOut.hasRemaining()) {
      if (wire.write(netOut) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Writes all of {@code netOut}, waiting as {@code waits} says. */
  private void flush(long deadline, String operation, Waits waits) throws IOException {
    while (netOut.hasRemaining()) {
      if (wire.write(netOut) == 0) {
        await(SelectionKey.OP_WRITE, deadline, operation, waits);
      }
    }
  }

  private void await(int op, long deadline, String operation, Waits waits) throws IOException {
    if (waits == Waits.ALWAYS) {
      wire.awaitUntil(op, deadline, operation);
    } else {
      wire.await(op, deadline, waits == Waits.NEVER, operation);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** After a failed handshake, gets the engine's alert out without waiting, if it can. */
  private void sendAlert() {
    try {
      engine.closeOutbound();
      if (!netOut.hasRemaining()) {
        netOut.clear();
        engine.wrap(EMPTY, netOut);
        netOut.flip();
      }
      wire.write(netOut);
    } catch (IOException | RuntimeException ignored) {
      // the handshake's own failure is what the caller needs to hear about
    }
  }

  /**
   * A failure of the socket itself during the handshake (the peer reset it, say), named as the
   * handshake's: {@code tls handshake with 127.0.0.1:8443: connection reset by peer}, not as the
   * {@code recv} or {@code send} that met it. Same class and errno; the original is the cause.
   */
  private IOException duringHandshake(IOException e, String operation) {
    if (!(e instanceof SocketError error)) {
      return e; // a timeout, already named as the handshake's
    }
    IOException renamed = Errors.of(error.errno(), operation, wire.peer());
    renamed.initCause(e);
    return renamed;
  }

  private IOException closedDuringHandshake(String operation) {
    return Errors.tls(
        new SSLException("the peer closed the connection during the handshake"),
        operation,
        wire.peer());
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /**
   * Takes {@code lock} if it comes within {@code slice} (and before the deadline): false if not
   * yet.
   */
  private boolean tryLock(ReentrantLock lock, long slice, long deadline, String operation)
      throws IOException {
    long wait = slice;
    if (deadline != Long.MAX_VALUE) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        if (lock.tryLock()) {
          return true;
        }
        throw Errors.timedOut(operation, wire.peer());
      }
      wait = Math.min(slice, left);
    }
    try {
      return lock.tryLock(wait, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.interrupted(operation, wire.peer(), e);
    }
  }

  /**
   * Takes a direction's lock for a receive or send: waits for another thread's call until the
   * deadline, or, in a non-blocking call, not at all ({@code WouldBlockException}, as a plain
   * socket's call answers while another thread waits on it).
   */
  private void lock(ReentrantLock lock, long deadline, String operation, Waits waits)
      throws IOException {
    try {
      if (waits == Waits.NEVER) {
        if (!lock.tryLock()) {
          throw Errors.wouldBlock(operation, wire.peer());
        }
      } else if (deadline == Long.MAX_VALUE) {
        lock.lockInterruptibly();
      } else if (!lock.tryLock(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        throw Errors.timedOut(operation, wire.peer());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.interrupted(operation, wire.peer(), e);
    }
  }

  private static int transfer(ByteBuffer from, ByteBuffer to) {
    int n = Math.min(from.remaining(), to.remaining());
    to.put(to.position(), from, from.position(), n);
    from.position(from.position() + n);
    to.position(to.position() + n);
    return n;
  }

  /** A larger buffer with {@code old}'s remaining bytes, in read mode. */
  private static ByteBuffer grow(ByteBuffer old, int size) {
    int capacity = Math.max(size, old.capacity() * 2);
    ByteBuffer bigger =
        old.isDirect() ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
    return bigger.put(old).flip();
  }
}
