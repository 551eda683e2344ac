package io.jsock.internal;

import io.jsock.AddressInUseException;
import io.jsock.BrokenPipeException;
import io.jsock.ClosedSocketException;
import io.jsock.ConnectionAbortedException;
import io.jsock.ConnectionRefusedException;
import io.jsock.ConnectionResetException;
import io.jsock.ConnectionTimedOutException;
import io.jsock.Errno;
import io.jsock.ErrnoException;
import io.jsock.SocketError;
import io.jsock.WouldBlockException;
import io.jsock.tls.TlsException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The one place that turns the JDK's exceptions into jsock's.
 *
 * <p>The JDK keeps the operating system's error number only in its messages (its native layer maps
 * refused, timed out and unreachable all to {@code ConnectException}; "Broken pipe" arrives as a
 * plain {@code IOException}; {@code ClosedChannelException} has no message at all), so the
 * classification reads those messages here and nowhere else. Every message jsock produces names the
 * operation, the address and the reason: {@code connect to 127.0.0.1:9: connection refused}.
 */
public final class Errors {
  /** Linux's strerror texts as the JDK passes them on, most specific first. */
  private static final List<Known> ENGLISH =
      List.of(
          new Known("connection refused", Errno.ECONNREFUSED),
          new Known("port unreachable", Errno.ECONNREFUSED),
          new Known("connection reset", Errno.ECONNRESET),
          new Known("broken pipe", Errno.EPIPE),
          new Known("address already in use", Errno.EADDRINUSE),
          new Known("cannot assign requested address", Errno.EADDRNOTAVAIL),
          new Known("connection timed out", Errno.ETIMEDOUT),
          new Known("no route to host", Errno.EHOSTUNREACH),
          new Known("network is unreachable", Errno.ENETUNREACH),
          new Known("network is down", Errno.ENETDOWN),
          new Known("software caused connection abort", Errno.ECONNABORTED),
          new Known("connection aborted", Errno.ECONNABORTED),
          new Known("permission denied", Errno.EACCES),
          new Known("operation not permitted", Errno.EPERM),
          new Known("too many open files in system", Errno.ENFILE),
          new Known("too many open files", Errno.EMFILE),
          new Known("not connected", Errno.ENOTCONN),
          new Known("already connected", Errno.EISCONN),
          new Known("message too long", Errno.EMSGSIZE),
          new Known("no buffer space available", Errno.ENOBUFS),
          new Known("protocol not available", Errno.ENOPROTOOPT),
          new Known("protocol wrong type for socket", Errno.EPROTOTYPE),
          new Known("address family not supported", Errno.EAFNOSUPPORT),
          new Known("file name too long", Errno.ENAMETOOLONG),
          new Known("invalid argument", Errno.EINVAL),
          new Known("can't send to port 0", Errno.EINVAL), // DatagramChannel's, as Linux's
          new Known("can't connect to port 0", Errno.EINVAL), // DatagramChannel's; Linux connects
          new Known("bad file descriptor", Errno.EBADF),
          new Known("no such file or directory", Errno.ENOENT),
          new Known("not a directory", Errno.ENOTDIR),
          new Known("no such device", Errno.ENODEV), // an IPv6 scope naming no interface
          new Known("too many levels of symbolic links", Errno.ELOOP),
          new Known("destination address required", Errno.EDESTADDRREQ),
          new Known("operation not supported", Errno.EOPNOTSUPP),
          new Known("cannot allocate memory", Errno.ENOMEM),
          new Known("resource temporarily unavailable", Errno.EAGAIN));

  /**
   * {@link #ENGLISH}, each error number's first entry followed by the C library's text for it in
   * this process's message language where that is another: the JDK words its messages so, and under
   * {@code LANGUAGE=de} a refused connect was taken for {@code EIO}.
   */
  private static final List<Known> KNOWN = withLocalTexts(ENGLISH);

  private record Known(String text, int errno) {}

  private static List<Known> withLocalTexts(List<Known> english) {
    List<Known> all = new ArrayList<>();
    Set<Integer> asked = new HashSet<>();
    for (Known known : english) {
      all.add(known);
      if (asked.add(known.errno())) {
        String local = ErrorTexts.of(known.errno());
        if (local != null
            && !local.isBlank()
            && english.stream().noneMatch(other -> local.contains(other.text()))) {
          all.add(new Known(local, known.errno()));
        }
      }
    }
    return List.copyOf(all);
  }

  /**
   * The alert name in the JDK's "Received fatal alert: unknown_ca", or in the cause it gives for an
   * alert that OpenSSL sends unencrypted during a TLS 1.3 handshake ("Unexpected plaintext alert
   * received: Level: fatal; Alert: unknown_ca", under "Unexpected exception").
   */
  private static final Pattern ALERT =
      Pattern.compile("(?:fatal alert: |Level: (?:fatal|warning); Alert: )(\\w+)");

  /** The JDK's "(bad_record_mac) Tag mismatch": the alert it sends, then its own detail. */
  private static final Pattern SENT_ALERT = Pattern.compile("^\\((\\w+)\\) (.*)$", Pattern.DOTALL);

  /** The content type in the JDK's "Unexpected content: 20". */
  private static final Pattern CONTENT_TYPE = Pattern.compile("Unexpected content: (\\d+)");

  /**
   * The name in the JDK server's "Illegal server name, type=host_name(0), name=my_host, value={…}":
   * an SNI name that its {@code SNIHostName} refuses (an underscore, a final dot), which ends the
   * handshake with illegal_parameter whatever the engine's settings.
   */
  private static final Pattern ILLEGAL_SERVER_NAME =
      Pattern.compile("Illegal server name, type=host_name\\(0\\), name=(.*), value=\\{");

  /** A protocol version named in a JDK handshake message. */
  private static final Pattern VERSION = Pattern.compile("TLSv1(\\.\\d)?|SSLv[23]");

  private Errors() {}

  /**
   * The jsock exception for a JDK exception thrown by {@code operation} (such as {@code "connect
   * to"}) on {@code address}. A jsock exception passes through unchanged, and so does an {@link
   * InterruptedIOException} (a timeout, or a wait that an interrupt ended), which already names the
   * operation.
   */
  public static IOException translate(IOException e, String operation, SocketAddress address) {
    if (e instanceof SocketError || e instanceof InterruptedIOException) {
      return e;
    }
    IOException translated;
    if (e instanceof AsynchronousCloseException || e instanceof ClosedChannelException) {
      translated = closed(operation, address);
    } else if (e instanceof PortUnreachableException) {
      translated = of(Errno.ECONNREFUSED, operation, address); // the JDK gives it no message
    } else {
      translated = of(errnoOf(e), operation, address);
    }
    translated.initCause(e);
    return translated;
  }

  /** The jsock exception for an error number: the right class, and the standard message. */
  public static IOException of(int errno, String operation, SocketAddress address) {
    String message = message(operation, address, Errno.describe(errno));
    return switch (errno) {
      case Errno.ECONNREFUSED -> new ConnectionRefusedException(message, address);
      case Errno.ECONNRESET -> new ConnectionResetException(message, address);
      case Errno.ECONNABORTED -> new ConnectionAbortedException(message, address);
      case Errno.EPIPE -> new BrokenPipeException(message, address);
      case Errno.EADDRINUSE -> new AddressInUseException(message, address);
      case Errno.EBADF -> new ClosedSocketException(message, address);
      case Errno.EAGAIN, Errno.EINPROGRESS, Errno.EALREADY ->
          new WouldBlockException(message, errno, address);
      case Errno.ETIMEDOUT -> new ConnectionTimedOutException(message, address);
      default -> new ErrnoException(message, errno, address);
    };
  }

  /** Use after close: {@code recv from 127.0.0.1:80: socket is closed}. */
  public static ClosedSocketException closed(String operation, SocketAddress address) {
    return new ClosedSocketException(message(operation, address, "socket is closed"), address);
  }

  /** A timeout in timeout mode: {@code recv from 127.0.0.1:80: timed out}, as Python says. */
  public static SocketTimeoutException timedOut(String operation, SocketAddress address) {
    return new SocketTimeoutException(message(operation, address, "timed out"));
  }

  /**
   * A wait that an interrupt ended: {@code recv from 127.0.0.1:80: interrupted}; {@code cause}, if
   * not null, is what the JDK threw for it.
   */
  public static InterruptedIOException interrupted(
      String operation, SocketAddress address, Throwable cause) {
    InterruptedIOException e =
        new InterruptedIOException(message(operation, address, "interrupted"));
    e.initCause(cause);
    return e;
  }

  /** A non-blocking operation that would have waited. */
  public static WouldBlockException wouldBlock(String operation, SocketAddress address) {
    return new WouldBlockException(
        message(operation, address, Errno.describe(Errno.EAGAIN)), Errno.EAGAIN, address);
  }

  /**
   * The jsock exception for a TLS failure: the reason in words, from jsock's own certificate
   * rejections where there is one, else from the JDK's handshake messages (read here only).
   */
  public static TlsException tls(SSLException e, String operation, SocketAddress address) {
    if (e instanceof TlsException already) {
      return already;
    }
    return new TlsException(message(operation, address, tlsReason(e, operation)), address, e);
  }

  private static String tlsReason(SSLException e, String operation) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof TlsTrust.Rejection rejection) {
        return rejection.reason();
      }
    }
    String text = e.getMessage() == null ? "" : e.getMessage();
    String lower = text.toLowerCase(Locale.ROOT);
    Matcher illegalName = ILLEGAL_SERVER_NAME.matcher(text);
    if (illegalName.find()) {
      return "the client asked for server name '"
          + illegalName.group(1)
          + "' (SNI), which the JDK refuses as a host name (alert illegal_parameter sent)";
    }
    boolean handshaking = operation.startsWith("tls handshake");
    Matcher alert = alertIn(e);
    if (alert != null) {
      String name = alert.group(1);
      return switch (name) {
        // over TLS 1.3 a server's verdict on our certificate arrives after our handshake ended
        case "bad_certificate", "certificate_unknown", "unknown_ca", "certificate_expired" ->
            "the peer rejected our certificate (alert " + name + ")";
        case "certificate_required" ->
            "the peer requires a client certificate (alert certificate_required)";
        case String other when !handshaking -> // the handshake's meanings no longer apply
            "the peer sent alert "
                + other
                + (alert.group().startsWith("Level:") ? " (unencrypted, after the handshake)" : "");
        case "protocol_version" -> "protocol version refused by the peer (alert protocol_version)";
        // TLS 1.2 servers (the JDK's, OpenSSL's) answer a missing client certificate so too
        case "handshake_failure" ->
            "no protocol version or cipher suite both sides accept, or the peer requires a client"
                + " certificate (alert handshake_failure)";
        default -> "the peer sent alert " + name;
      };
    }
    if (lower.contains("protocol")
        && (lower.contains("not enabled") || lower.contains("no appropriate"))) {
      Matcher version = VERSION.matcher(text);
      return version.find()
          ? "protocol version " + version.group() + " refused"
          : "no protocol version both sides accept";
    }
    if (lower.contains("unrecognized ssl message")) { // "Unsupported or …", "…, plaintext?"
      return "the peer does not speak TLS";
    }
    if (!handshaking) {
      String reason = afterHandshake(text, lower);
      if (reason != null) {
        return reason;
      }
    }
    if (lower.contains("input record too big")) { // bytes that look like a record's header, no more
      return "the peer does not speak TLS (a record longer than TLS allows)";
    }
    if (lower.contains("unexpected handshake message: client_hello")) { // our hello, sent back
      return "the peer does not speak TLS (it sent our ClientHello back: an echo server?)";
    }
    return text.isEmpty() ? e.getClass().getSimpleName() : text;
  }

  /**
   * A failure of the records after the handshake, in the words OpenSSL's reasons use (Python's
   * DECRYPTION_FAILED_OR_BAD_RECORD_MAC, PACKET_LENGTH_TOO_LONG…), with the alert the JDK answered
   * it with; null if the JDK's text is none of these.
   */
  private static String afterHandshake(String text, String lower) {
    if (lower.contains("input record too big")) {
      return "record overflow: the peer sent a record longer than TLS allows";
    }
    Matcher sent = SENT_ALERT.matcher(text);
    if (!sent.matches()) {
      return null;
    }
    String name = sent.group(1);
    Matcher content = CONTENT_TYPE.matcher(sent.group(2));
    return switch (name) {
      case "bad_record_mac" ->
          "bad record mac: a record failed decryption or its integrity check (alert bad_record_mac)";
      case "unexpected_message" ->
          content.find()
              ? "unexpected message: a "
                  + contentType(Integer.parseInt(content.group(1)))
                  + " record after the handshake (alert unexpected_message)"
              : "unexpected message: " + sent.group(2) + " (alert unexpected_message)";
      default -> name.replace('_', ' ') + ": " + sent.group(2) + " (alert " + name + ")";
    };
  }

  private static String contentType(int type) {
    return switch (type) {
      case 20 -> "change_cipher_spec";
      case 21 -> "alert";
      case 22 -> "handshake";
      case 23 -> "application_data";
      default -> "type " + type;
    };
  }

  /** Whether the exception, or one of its causes, names a fatal alert (as one the peer sent). */
  static boolean namesAlert(SSLException e) {
    return alertIn(e) != null;
  }

  /** The first alert named by the exception or its causes, found; null if none names one. */
  private static Matcher alertIn(SSLException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      Matcher alert = ALERT.matcher(cause.getMessage() == null ? "" : cause.getMessage());
      if (alert.find()) {
        return alert;
      }
    }
    return null;
  }

  /** {@code operation address: reason}, or {@code operation: reason} without an address. */
  public static String message(String operation, SocketAddress address, String reason) {
    return address == null
        ? operation + ": " + reason
        : operation + " " + Addresses.format(address) + ": " + reason;
  }

  private static int errnoOf(IOException e) {
    String text = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
    for (Known known : KNOWN) {
      if (text.contains(known.text())) {
        return known.errno();
      }
    }
    return Errno.EIO;
  }
}
