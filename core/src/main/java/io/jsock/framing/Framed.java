package io.jsock.framing;

import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.Socket;
import io.jsock.WouldBlockException;
import io.jsock.framing.Framing.Delimited;
import io.jsock.framing.Framing.Lines;
import io.jsock.framing.Framing.Prefix;
import io.jsock.framing.Framing.Prefixed;
import io.jsock.internal.Errors;
import io.jsock.internal.SocketAccess;
import io.jsock.internal.TlsEngine;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A stream socket that sends and receives whole messages in a {@link Framing}; made by {@link
 * Framing#on(Socket)}.
 *
 * <pre>{@code
 * Framed framed = Framing.lengthPrefixed(Prefix.U32, 1 << 20).on(sock);
 * framed.sendMsg("ping".getBytes(UTF_8));
 * byte[] reply = framed.recvMsg();
 * }</pre>
 *
 * <p><b>End of stream.</b> {@link #recvMsg()} throws {@link EOFException} when the peer closed (or
 * shut down its sending side) between two messages, so a loop that serves messages until the peer
 * is done reads:
 *
 * <pre>{@code
 * try {
 *   while (true) {
 *     byte[] request = framed.recvMsg();
 *     framed.sendMsg(handle(request));
 *   }
 * } catch (EOFException done) {
 *   // "recv from 127.0.0.1:5000: end of stream": the peer closed cleanly
 * }
 * }</pre>
 *
 * A stream that ends inside a message (in its length prefix, in its payload, or after part of a
 * line) is a {@link FrameException} with {@link Errno#EPROTO}, never a short message; so is a
 * malformed varint prefix. A message larger than the framing's maximum is a {@link FrameException}
 * with {@link Errno#EMSGSIZE}, raised as soon as the size is known (from the prefix) or exceeded
 * (bytes without a delimiter), before anything is allocated for the message.
 *
 * <p><b>Receiving.</b> Bytes are read into an 8 KiB buffer, as many as have arrived and fit, never
 * one at a time; bytes received past a message are kept for the next one. A delimited message
 * longer than the buffer grows it as far as the message needs, at most to the maximum size and the
 * delimiter's length (and the buffer keeps that size); a length-prefixed message longer than the
 * buffer is read straight into the array returned, so the buffer never grows.
 *
 * <p><b>Sending.</b> A frame of up to 64 KiB is copied with its prefix or delimiter into one buffer
 * and goes in one {@link Socket#sendAll}: one system call, and no wait for Nagle's algorithm
 * between a small header and its payload. A larger frame goes in two or three {@code sendAll}
 * calls, prefix then payload (or payload then delimiter), the payload straight from the caller's
 * array without a copy. In timeout mode the timeout bounds each of these calls.
 *
 * <p><b>Modes and failures.</b> The socket's mode applies to each wait for data: in timeout mode a
 * slow peer may make one {@code recvMsg} last longer than the timeout, as long as each part of the
 * message arrives within it. In non-blocking mode {@link WouldBlockException} loses nothing, even
 * mid-message: the next {@code recvMsg} goes on with what has arrived. A {@code Framed} keeps bytes
 * received past a message, so it may hold whole messages that no readiness shows: when a {@link
 * io.jsock.SocketSelector} reports the socket readable, call {@code recvMsg} until it throws {@code
 * WouldBlockException}. If a timeout comes before any byte of the next message, nothing is lost and
 * {@code recvMsg} may be called again. If it comes mid-message, or if any other error or a {@link
 * FrameException} does, the position of the next message in the stream is unknown, so, as Python's
 * buffered socket readers do after a timeout, every later {@code recvMsg} fails with an {@link
 * ErrnoException} ({@link Errno#EIO}) whose cause is the first failure. An interrupt (an {@link
 * java.io.InterruptedIOException} that is not a timeout) loses nothing, even mid-message: it ends a
 * wait before any byte is read, so the next {@code recvMsg} goes on where it stopped. Likewise,
 * once a failed {@code sendMsg} has sent part of a frame, every later {@code sendMsg} fails; over
 * TLS so does one that left part of its frame sealed in a queued record, which would otherwise go
 * out before the next frame. Once the socket is closed, both say so instead, as the socket's own
 * calls do ({@link io.jsock.ClosedSocketException}).
 *
 * <p><b>Threads.</b> One thread may receive while another sends. Calls in the same direction are
 * serialised, so messages from several sending threads never interleave; a call that finds another
 * in progress waits for it in the socket's mode, as for data: in non-blocking mode it throws {@code
 * WouldBlockException} at once, in timeout mode {@code SocketTimeoutException} once the timeout has
 * passed, and in blocking mode an interrupt ends the wait ({@link java.io.InterruptedIOException});
 * either way the {@code Framed} is left as it was. A socket's bytes should reach it through one
 * {@code Framed} only.
 */
public final class Framed {
  /** The receive buffer's size until a delimited message needs more. */
  private static final int READ_CHUNK = 8 * 1024;

  /**
   * Frames up to this size are copied with their prefix or delimiter into one buffer and sent with
   * one {@code sendAll}: one system call, and one segment where they fit. Two writes of a small
   * header and then a payload would meet Nagle's algorithm and the peer's delayed ACK (the payload
   * waits up to 40 ms for the header's ACK); above this size the payload spans full segments, which
   * Nagle lets through, so larger frames are sent as prefix, then payload straight from the
   * caller's array (or payload, then delimiter) without copying.
   */
  private static final int COPY_LIMIT = 64 * 1024;

  private static final byte LF = '\n';
  private static final byte CR = '\r';
  private static final byte[] LINE_END = {LF};
  private static final byte[] EMPTY = {};

  private final Socket socket;
  private final Framing framing;
  private final int maxSize;

  /** What ends a message (a line end for lines), or null for a length prefix. */
  private final byte[] delimiter;

  private final boolean lines;
  private final Prefix prefix;

  private volatile SocketAddress peer;

  // Receiving state, guarded by readLock.
  private final ReentrantLock readLock = new ReentrantLock();
  private byte[] in; // allocated by the first recvMsg: a socket that only sends never needs it
  private ByteBuffer inView;
  private int start; // the first byte not yet handed out
  private int end; // after the last byte received
  private int scanned; // bytes after start in which no delimiter begins
  private ByteBuffer large; // a message's rest being read straight into the array it returns
  private long announced; // the length in the last prefix decodePrefix() completed
  private IOException readFailure;

  // Sending state, guarded by writeLock.
  private final ReentrantLock writeLock = new ReentrantLock();
  private final byte[] header = new byte[5];
  private final ByteBuffer headerView = ByteBuffer.wrap(header);
  private byte[] out;
  private ByteBuffer outView;
  private IOException writeFailure;

  Framed(Socket socket, Framing framing) {
    this.socket = socket;
    this.framing = framing;
    this.maxSize = framing.maxSize();
    switch (framing.shape()) {
      case Prefixed(Prefix p) -> {
        this.prefix = p;
        this.delimiter = null;
        this.lines = false;
      }
      case Lines() -> {
        this.prefix = null;
        this.delimiter = LINE_END;
        this.lines = true;
      }
      case Delimited(byte[] d) -> {
        this.prefix = null;
        this.delimiter = d;
        this.lines = false;
      }
    }
  }

  /** The socket this sends and receives on. */
  public Socket socket() {
    return socket;
  }

  /** The framing of the messages. */
  public Framing framing() {
    return framing;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends one message as one frame: after its length prefix, or followed by its delimiter or {@code
   * '\n'}. A frame of up to 64 KiB is one {@code sendAll}, a larger one two or three (see the class
   * description).
   *
   * @throws IllegalArgumentException naming the message's length if it exceeds the framing's
   *     maximum; for lines, if the message holds a {@code '\n'} or ends with a {@code '\r'} (the
   *     peer would cut or strip it there); for a delimiter, if the delimiter occurs in the message
   *     or across its end and the delimiter appended
   * @throws ErrnoException with {@link Errno#EIO} if an earlier {@code sendMsg} failed after
   *     sending part of its frame
   */
  public void sendMsg(byte[] message) throws IOException {
    Objects.requireNonNull(message, "message");
    checkSendable(message);
    lock(writeLock, "send to");
    try {
      if (writeFailure != null) {
        if (socket.isClosed()) {
          socket.send(EMPTY); // closed meanwhile: throws what the socket says then
        }
        throw refused(
            "send to", "cannot send after a failed sendMsg sent part of a frame", writeFailure);
      }
      int headerLength = prefix == null ? 0 : encodePrefix(message.length);
      byte[] trailer = delimiter == null ? EMPTY : delimiter;
      int frame = headerLength + message.length + trailer.length;
      if (frame <= COPY_LIMIT) {
        ByteBuffer whole = outBuffer(frame);
        System.arraycopy(header, 0, out, 0, headerLength);
        System.arraycopy(message, 0, out, headerLength, message.length);
        System.arraycopy(trailer, 0, out, headerLength + message.length, trailer.length);
        send(whole);
      } else {
        send(
            headerView.limit(headerLength).position(0),
            ByteBuffer.wrap(message),
            ByteBuffer.wrap(trailer));
      }
    } finally {
      writeLock.unlock();
    }
  }

  private void checkSendable(byte[] message) {
    if (message.length > maxSize) {
      throw new IllegalArgumentException(
          "message of " + message.length + " bytes exceeds the maximum " + maxSize);
    }
    if (lines) {
      for (int i = 0; i < message.length; i++) {
        if (message[i] == LF) {
          throw new IllegalArgumentException("message contains a line end at index " + i);
        }
      }
      if (message.length > 0 && message[message.length - 1] == CR) {
        throw new IllegalArgumentException(
            "message ends with '\\r', which the receiver would strip as part of the line end");
      }
    } else if (delimiter != null) {
      int at = delimiterIn(message);
      if (at >= 0) {
        throw new IllegalArgumentException(
            "message contains the delimiter at index " + at + ", where the receiver would end it");
      }
    }
  }

  /**
   * Where the delimiter first begins in the message followed by the delimiter, if before the
   * appended one: {@code "a\r\n"} with {@code "\r\n\r\n"} would end after {@code "a"}.
   */
  private int delimiterIn(byte[] message) {
    byte first = delimiter[0];
    for (int p = 0; p < message.length; p++) {
      if (message[p] != first) {
        continue;
      }
      int j = 1;
      while (j < delimiter.length) {
        int i = p + j;
        byte b = i < message.length ? message[i] : delimiter[i - message.length];
        if (b != delimiter[j]) {
          break;
        }
        j++;
      }
      if (j == delimiter.length) {
        return p;
      }
    }
    return -1;
  }

  /** Writes the length prefix into {@link #header} and returns its length. */
  private int encodePrefix(int length) {
    return switch (prefix) {
      case U16 -> {
        header[0] = (byte) (length >>> 8);
        header[1] = (byte) length;
        yield 2;
      }
      case U32 -> {
        header[0] = (byte) (length >>> 24);
        header[1] = (byte) (length >>> 16);
        header[2] = (byte) (length >>> 8);
        header[3] = (byte) length;
        yield 4;
      }
      case VARINT -> {
        int n = 0;
        int rest = length;
        while ((rest & ~0x7F) != 0) {
          header[n++] = (byte) ((rest & 0x7F) | 0x80);
          rest >>>= 7;
        }
        header[n++] = (byte) rest;
        yield n;
      }
    };
  }

  /** The send buffer, at least {@code size} bytes, ready to send its first {@code size} bytes. */
  private ByteBuffer outBuffer(int size) {
    if (out == null || out.length < size) {
      int grown = out == null ? 256 : 2 * out.length;
      out = new byte[Math.min(COPY_LIMIT, Math.max(size, grown))];
      outView = ByteBuffer.wrap(out);
    }
    return outView.limit(size).position(0);
  }

  /**
   * Sends the parts in order; if that fails after some bytes went (or, over TLS, were sealed into a
   * record that stays queued), the stream is unusable.
   */
  private void send(ByteBuffer... parts) throws IOException {
    try {
      for (ByteBuffer part : parts) {
        if (part.hasRemaining()) { // an empty one would cost a write(2) of nothing
          socket.sendAll(part);
        }
      }
    } catch (IOException e) {
      long sent = 0;
      for (ByteBuffer part : parts) {
        sent += part.position(); // sendAll advances the position past what went, even on failure
      }
      if (sent > 0 || hasQueuedTlsRecord()) {
        writeFailure = e;
      }
      throw e;
    }
  }

  /**
   * Whether the failed send left a TLS record queued: its position stays where it was, as OpenSSL
   * does, but the record goes before the next send's bytes and is then skipped in them, which would
   * put part of this frame on the wire and lose the start of the next.
   */
  private boolean hasQueuedTlsRecord() {
    return SocketAccess.get().tls(socket).map(TlsEngine::hasQueuedRecord).orElse(false);
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Receives the next message: its bytes without prefix, delimiter or line end.
   *
   * @throws EOFException if the stream ended cleanly before the message's first byte: {@code recv
   *     from 127.0.0.1:5000: end of stream}
   * @throws FrameException if the stream ended inside the message ({@link Errno#EPROTO}: {@code
   *     truncated frame: 3 of 10 bytes}), the prefix is malformed ({@link Errno#EPROTO}), or the
   *     message is larger than the framing's maximum ({@link Errno#EMSGSIZE}: {@code frame of
   *     2147483647 bytes exceeds the maximum 1048576})
   * @throws java.net.SocketTimeoutException in timeout mode, if a wait for data timed out
   * @throws ErrnoException with {@link Errno#EIO} if an earlier call failed mid-message (see the
   *     class description)
   */
  public byte[] recvMsg() throws IOException {
    lock(readLock, "recv from");
    try {
      if (readFailure != null) {
        if (socket.isClosed()) {
          socket.recv(1); // closed meanwhile: throws what the socket says then
        }
        throw refused("recv from", refusal(readFailure), readFailure);
      }
      if (in == null) {
        in = new byte[READ_CHUNK];
        inView = ByteBuffer.wrap(in);
      }
      try {
        return prefix != null ? recvPrefixed() : recvDelimited();
      } catch (WouldBlockException e) {
        throw e; // thrown before a read took any byte: the next call goes on where this one stopped
      } catch (InterruptedIOException e) {
        // Likewise an interrupt, which ends a wait before a read took any byte (Python's readers
        // are not spoilt by a KeyboardInterrupt); a timeout is one too, and spoils them mid-frame.
        if (e instanceof SocketTimeoutException && (large != null || start < end)) {
          readFailure = e;
        }
        throw e;
      } catch (IOException | RuntimeException e) {
        // Between messages (nothing buffered) a timeout or the end of the stream loses nothing.
        if (e instanceof FrameException || large != null || start < end) {
          readFailure = e instanceof IOException io ? io : new IOException(e);
        }
        throw e;
      }
    } finally {
      readLock.unlock();
    }
  }

  private byte[] recvPrefixed() throws IOException {
    if (large != null) {
      return recvLargeRest(); // a non-blocking call stopped inside it
    }
    int headerLength;
    while ((headerLength = decodePrefix()) == 0) {
      if (!fill()) {
        throw endInPrefix();
      }
    }
    long announced = this.announced;
    if (announced > maxSize) {
      throw tooLarge("frame of " + announced + " bytes exceeds the maximum " + maxSize);
    }
    int length = (int) announced;
    int frame = headerLength + length; // at most Framing.MAX_ARRAY + 5: no overflow
    if (frame > in.length) {
      return recvLarge(headerLength, length);
    }
    if (start + frame > in.length) {
      compact(); // so that the rest of the frame can arrive in one read
    }
    while (end - start < frame) {
      if (!fill()) {
        throw protocolError(
            "truncated frame: " + (end - start - headerLength) + " of " + bytes(length));
      }
    }
    byte[] message = Arrays.copyOfRange(in, start + headerLength, start + frame);
    consume(frame);
    return message;
  }

  /** A message larger than the buffer: the rest is read straight into the array returned. */
  private byte[] recvLarge(int headerLength, int length) throws IOException {
    byte[] message = new byte[length]; // length was checked against the maximum
    int buffered = end - start - headerLength;
    System.arraycopy(in, start + headerLength, message, 0, buffered);
    start = 0;
    end = 0;
    large = ByteBuffer.wrap(message, buffered, length - buffered);
    return recvLargeRest();
  }

  /** Reads the rest of a message larger than the buffer into its array, and returns the array. */
  private byte[] recvLargeRest() throws IOException {
    while (large.hasRemaining()) {
      if (socket.recvInto(large) == 0) {
        throw protocolError(
            "truncated frame: " + large.position() + " of " + bytes(large.capacity()));
      }
    }
    byte[] message = large.array();
    large = null;
    return message;
  }

  /**
   * Decodes the prefix at {@link #start}: its length in bytes, with the length it announces in
   * {@link #announced}, or 0 if it has not all arrived.
   */
  private int decodePrefix() throws FrameException {
    int buffered = end - start;
    switch (prefix) {
      case U16 -> {
        if (buffered < 2) {
          return 0;
        }
        announced = ((in[start] & 0xFF) << 8) | (in[start + 1] & 0xFF);
        return 2;
      }
      case U32 -> {
        if (buffered < 4) {
          return 0;
        }
        announced =
            ((long) (in[start] & 0xFF) << 24)
                | ((in[start + 1] & 0xFF) << 16)
                | ((in[start + 2] & 0xFF) << 8)
                | (in[start + 3] & 0xFF);
        return 4;
      }
      case VARINT -> {
        long value = 0;
        for (int i = 0; i < 5; i++) {
          if (i == buffered) {
            return 0;
          }
          int b = in[start + i] & 0xFF;
          value |= (long) (b & 0x7F) << (7 * i);
          if ((b & 0x80) == 0) {
            if (i > 0 && b == 0) {
              throw protocolError(
                  "overlong varint length prefix (" + (i + 1) + " bytes for " + value + ")");
            }
            if (i == 4 && b > 0x0F) {
              throw protocolError("varint length prefix wider than 32 bits");
            }
            announced = value;
            return i + 1;
          }
        }
        throw protocolError("varint length prefix longer than 5 bytes");
      }
    }
    throw new AssertionError(prefix);
  }

  private IOException endInPrefix() {
    int buffered = end - start;
    if (buffered == 0) {
      return endOfStream();
    }
    return protocolError(
        prefix == Prefix.VARINT
            ? "truncated frame: " + bytes(buffered) + " of an unfinished varint prefix"
            : "truncated frame: "
                + buffered
                + " of "
                + (prefix == Prefix.U16 ? 2 : 4)
                + " prefix bytes");
  }

  private byte[] recvDelimited() throws IOException {
    while (true) {
      int at = findDelimiter();
      if (at >= 0) {
        int length = lines && at > 0 && in[start + at - 1] == CR ? at - 1 : at;
        if (length > maxSize) {
          throw tooLarge("frame of " + length + " bytes exceeds the maximum " + maxSize);
        }
        byte[] message = Arrays.copyOfRange(in, start, start + length);
        consume(at + delimiter.length);
        return message;
      }
      int buffered = end - start;
      if (!canStillFit(buffered)) {
        throw tooLarge(
            "frame exceeds the maximum "
                + maxSize
                + ": "
                + bytes(buffered)
                + (lines ? " without a line end" : " without the delimiter"));
      }
      if (end == in.length) {
        if (start > 0) {
          compact();
        } else {
          grow();
        }
      }
      if (!fill()) {
        if (buffered == 0) {
          throw endOfStream();
        }
        throw protocolError(
            "truncated frame: "
                + bytes(buffered)
                + (lines ? " of an unterminated line" : " without the delimiter"));
      }
    }
  }

  /**
   * Where the first delimiter begins after {@link #start}, or -1; bytes searched once are not
   * searched again, so a long message arriving in small reads costs linear time.
   */
  private int findDelimiter() {
    int buffered = end - start;
    int last = buffered - delimiter.length;
    byte first = delimiter[0];
    for (int p = scanned; p <= last; p++) {
      if (in[start + p] == first
          && Arrays.equals(
              in, start + p + 1, start + p + delimiter.length, delimiter, 1, delimiter.length)) {
        return p;
      }
    }
    scanned = Math.max(scanned, last + 1);
    return -1;
  }

  /**
   * Whether {@code buffered} bytes without a whole delimiter may still be the start of a message
   * within the maximum: the earliest moment a message too long can be told.
   */
  private boolean canStillFit(int buffered) {
    if (buffered <= maxSize) {
      return true;
    }
    if (lines) { // maxSize bytes, then a '\r' that may be part of the line end
      return buffered == maxSize + 1 && in[end - 1] == CR;
    }
    // A delimiter that has begun by offset maxSize and arrived only in part still fits.
    // (One that could have begun earlier has arrived whole, and findDelimiter() found none.)
    for (int p = Math.max(0, buffered - delimiter.length + 1); p <= maxSize; p++) {
      if (Arrays.equals(in, start + p, end, delimiter, 0, buffered - p)) {
        return true;
      }
    }
    return false;
  }

  /** Grows a full buffer that holds one unfinished message, at most to what the message needs. */
  private void grow() {
    // The longest frame: maxSize bytes and the delimiter, or a "\r\n" line end.
    long limit = (long) maxSize + (lines ? 2 : delimiter.length);
    in = Arrays.copyOf(in, (int) Math.min(2L * in.length, limit));
    inView = ByteBuffer.wrap(in);
  }

  /** Reads once into the free space after {@link #end}; false at the end of the stream. */
  private boolean fill() throws IOException {
    if (end == in.length) {
      compact();
    }
    // Callers leave room: a read into a full buffer would return 0 and look like the end.
    assert end < in.length;
    int n = socket.recvInto(inView.limit(in.length).position(end));
    end += n;
    return n > 0;
  }

  private void compact() {
    System.arraycopy(in, start, in, 0, end - start);
    end -= start;
    start = 0;
  }

  private void consume(int frame) {
    start += frame;
    scanned = 0;
    if (start == end) {
      start = 0;
      end = 0;
    }
  }

  // ---------------------------------------------------------------- threads

  /**
   * Takes a direction's lock; if another thread's call holds it, waits in the socket's mode for
   * that direction, read now, as the socket's own calls wait for data or room: not at all in
   * non-blocking mode ({@link WouldBlockException}), at most the timeout in timeout mode ({@link
   * SocketTimeoutException}), and until an interrupt in blocking mode. Nothing has been read or
   * sent when it throws, so the {@code Framed} stays as it was.
   */
  private void lock(ReentrantLock lock, String operation) throws IOException {
    if (lock.tryLock()) {
      return; // the usual case: no other call in this direction
    }
    Duration mode =
        lock == writeLock ? SocketAccess.get().sendTimeout(socket) : socket.getTimeout();
    try {
      if (mode == null) {
        lock.lockInterruptibly();
      } else if (mode.isZero()) {
        throw Errors.wouldBlock(operation, peer());
      } else if (!lock.tryLock(mode.toNanos(), TimeUnit.NANOSECONDS)) {
        throw Errors.timedOut(operation, peer());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.interrupted(operation, peer(), e);
    }
  }

  // ---------------------------------------------------------------- errors

  private EOFException endOfStream() {
    return new EOFException(Errors.message("recv from", peer(), "end of stream"));
  }

  /** A frame cut short by the end of the stream, or a malformed prefix. */
  private FrameException protocolError(String reason) {
    return new FrameException(Errors.message("recv from", peer(), reason), Errno.EPROTO, peer());
  }

  private FrameException tooLarge(String reason) {
    return new FrameException(Errors.message("recv from", peer(), reason), Errno.EMSGSIZE, peer());
  }

  private static String bytes(int count) {
    return count == 1 ? "1 byte" : count + " bytes";
  }

  private static String refusal(IOException failure) {
    return switch (failure) {
      case SocketTimeoutException _ -> "cannot receive after a timeout mid-frame";
      case FrameException _ -> "cannot receive after a framing error";
      default -> "cannot receive after an error mid-frame";
    };
  }

  private ErrnoException refused(String operation, String reason, IOException failure) {
    ErrnoException refused =
        new ErrnoException(Errors.message(operation, peer(), reason), Errno.EIO, peer());
    refused.initCause(failure);
    return refused;
  }

  /** The peer's address for messages, or null if the socket is not (or no longer) connected. */
  private SocketAddress peer() {
    SocketAddress known = peer;
    if (known == null) {
      try {
        known = socket.getPeerName();
        peer = known;
      } catch (IOException notConnected) {
        // The message goes without an address; the caller is about to report the real failure.
      }
    }
    return known;
  }
}
