package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The wire format of {@code jsock send} and {@code jsock receive} (docs/cli/transfer.md): a header
 * from the sender, the receiver's answer (go on from an offset, or refuse), the sender's go-ahead,
 * the data, and the receiver's verdict. Integers are big-endian; strings are a u16 length and
 * UTF-8.
 */
final class TransferProtocol {
  /** "JSXF": jsock transfer. */
  static final int MAGIC = 0x4A535846;

  static final int VERSION = 1;
  static final int MAX_TEXT_BYTES = 1024;
  static final int SHA256_BYTES = 32;

  static final byte GO = 'G';
  static final byte REFUSED = 'R';
  static final byte DATA = 'D';
  static final byte RESUME_REFUSED = 'X';
  static final byte MATCHED = 'K';
  static final byte MISMATCHED = 'M';

  /** The content types that begin a TLS record: change_cipher_spec to application_data. */
  private static final int FIRST_TLS_CONTENT_TYPE = 20;

  private static final int LAST_TLS_CONTENT_TYPE = 23;

  private TransferProtocol() {}

  /** What the sender announces: the file's base name, its size and its SHA-256. */
  record Header(String name, long size, byte[] sha256) {}

  /** The receiver's answer: go on from {@code offset}, or refused with a message. */
  sealed interface Answer {}

  /**
   * Go on from {@code offset}; when above 0, the receiver already holds that many bytes at {@code
   * partialName}, whose SHA-256 is {@code prefixSha256}.
   */
  record Go(long offset, String partialName, byte[] prefixSha256) implements Answer {}

  /** Refused before any data, for the reason in {@code message}. */
  record Refused(String message) implements Answer {}

  /** The receiver's verdict: the SHA-256 of what it holds, and whether it matched the header. */
  record Verdict(boolean matched, byte[] sha256) {}

  static void writeHeader(Socket conn, Header header) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(MAGIC);
    out.writeByte(VERSION);
    writeText(out, header.name());
    out.writeLong(header.size());
    out.write(header.sha256());
    conn.sendAll(bytes.toByteArray());
  }

  /** Reads a header, checking the magic, the version and every length before allocating. */
  static Header readHeader(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (beginsTlsRecord(magic >>> 24)) {
      throw new TransferFailedException(
          "the peer speaks TLS (a TLS record instead of a JSXF header): use receive --tls");
    }
    if (magic != MAGIC) {
      throw new TransferFailedException(
          "the peer does not speak jsock's transfer protocol (no JSXF header; is it jsock send?)");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new TransferFailedException(
          "the peer speaks transfer protocol version " + version + ", this jsock " + VERSION);
    }
    String name = readText(in);
    long size = in.readLong();
    if (size < 0) {
      throw new TransferFailedException("the peer announced a negative size: " + size);
    }
    return new Header(name, size, readDigest(in));
  }

  /** Whether a byte is the first of a TLS record (its content type), which no JSXF message is. */
  private static boolean beginsTlsRecord(int firstByte) {
    return firstByte >= FIRST_TLS_CONTENT_TYPE && firstByte <= LAST_TLS_CONTENT_TYPE;
  }

  static void writeAnswer(Socket conn, Answer answer) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    switch (answer) {
      case Go go -> {
        out.writeByte(GO);
        out.writeLong(go.offset());
        if (go.offset() > 0) {
          writeText(out, go.partialName());
          out.write(go.prefixSha256());
        }
      }
      case Refused refused -> {
        out.writeByte(REFUSED);
        writeText(out, refused.message());
      }
    }
    conn.sendAll(bytes.toByteArray());
  }

  static Answer readAnswer(DataInputStream in, long size) throws IOException {
    int kind = in.readUnsignedByte();
    if (kind == REFUSED) {
      return new Refused(readText(in));
    }
    if (beginsTlsRecord(kind)) {
      throw new TransferFailedException(
          "the receiver speaks TLS (it answered with a TLS record): use send --tls");
    }
    if (kind != GO) {
      throw new TransferFailedException("the receiver sent an unknown answer: " + kind);
    }
    long offset = in.readLong();
    if (offset < 0 || offset > size) {
      throw new TransferFailedException("the receiver asked for an offset out of range: " + offset);
    }
    if (offset == 0) {
      return new Go(0, "", new byte[0]);
    }
    return new Go(offset, readText(in), readDigest(in));
  }

  static void writeVerdict(Socket conn, Verdict verdict) throws IOException {
    byte[] bytes = new byte[1 + SHA256_BYTES];
    bytes[0] = verdict.matched() ? MATCHED : MISMATCHED;
    System.arraycopy(verdict.sha256(), 0, bytes, 1, SHA256_BYTES);
    conn.sendAll(bytes);
  }

  static Verdict readVerdict(DataInputStream in) throws IOException {
    int kind = in.readUnsignedByte();
    if (kind != MATCHED && kind != MISMATCHED) {
      throw new TransferFailedException("the receiver sent an unknown verdict: " + kind);
    }
    return new Verdict(kind == MATCHED, readDigest(in));
  }

  /** A fresh SHA-256 digest. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** A digest fed with the first {@code length} bytes of {@code file}, ready to take more. */
  static MessageDigest sha256Of(FileChannel file, long length) throws IOException {
    MessageDigest digest = sha256();
    // freed on return, not when a collection finds it (receive -k --resume hashes per transfer)
    try (Arena arena = Arena.ofConfined()) {
      ByteBuffer buffer = arena.allocate(1 << 20).asByteBuffer();
      long done = 0;
      while (done < length) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), length - done));
        int n = file.read(buffer, done);
        if (n < 0) {
          throw new EOFException("file ended after " + done + " of " + length + " bytes");
        }
        done += n;
        digest.update(buffer.flip());
      }
    }
    return digest;
  }

  /** The digest's value so far, leaving it able to take more. */
  static byte[] peek(MessageDigest digest) {
    try {
      return ((MessageDigest) digest.clone()).digest();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the JDK's SHA-256 can be cloned", e);
    }
  }

  /**
   * Whether a file name may be announced and taken: no directory part ('/' or '\'), not '.' or
   * '..', no control characters; so a sender cannot make a receiver write outside its directory.
   */
  static boolean isPlainFileName(String name) {
    if (name.isEmpty() || name.equals(".") || name.equals("..")) {
      return false;
    }
    return name.chars().noneMatch(c -> c == '/' || c == '\\' || Character.isISOControl(c));
  }

  /**
   * The name with each control character (C0, DEL, C1) as {@code ?}, for messages: a terminal may
   * obey one it is shown (U+009B is a CSI, as ESC [ is).
   */
  static String printable(String name) {
    StringBuilder text = new StringBuilder(name.length());
    name.chars().forEach(c -> text.append(Character.isISOControl(c) ? '?' : (char) c));
    return text.toString();
  }

  static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  static boolean same(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  private static void writeText(DataOutputStream out, String text) throws IOException {
    byte[] utf8 = text.getBytes(UTF_8);
    if (utf8.length > MAX_TEXT_BYTES) {
      int cut = MAX_TEXT_BYTES;
      while ((utf8[cut] & 0xC0) == 0x80) {
        cut--; // a continuation byte: cut before its character, not through it
      }
      utf8 = Arrays.copyOf(utf8, cut);
    }
    out.writeShort(utf8.length);
    out.write(utf8);
  }

  private static String readText(DataInputStream in) throws IOException {
    int length = in.readUnsignedShort();
    if (length > MAX_TEXT_BYTES) {
      throw new TransferFailedException(
          "the peer sent a text of " + length + " bytes, more than " + MAX_TEXT_BYTES);
    }
    byte[] utf8 = new byte[length];
    in.readFully(utf8);
    return new String(utf8, UTF_8);
  }

  private static byte[] readDigest(DataInputStream in) throws IOException {
    byte[] digest = new byte[SHA256_BYTES];
    in.readFully(digest);
    return digest;
  }
}
