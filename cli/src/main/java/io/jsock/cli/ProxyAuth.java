package io.jsock.cli;

import java.util.Optional;

/**
 * The credentials of {@code --proxy-auth USER[:PASS]}: a SOCKS4 user id, RFC 1929's user name and
 * password for SOCKS5, HTTP Basic for HTTP.
 *
 * @param user the user name (or SOCKS4 user id)
 * @param password the password, if {@code :PASS} was given
 */
record ProxyAuth(String user, Optional<String> password) {

  /** {@code USER[:PASS]}, split at the first colon: a password may hold colons, a user not. */
  static ProxyAuth parse(String text) {
    int colon = text.indexOf(':');
    return colon < 0
        ? new ProxyAuth(text, Optional.empty())
        : new ProxyAuth(text.substring(0, colon), Optional.of(text.substring(colon + 1)));
  }
}
