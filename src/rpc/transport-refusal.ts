// Secure by default, one rule for both ends of blockd's TCP API: gluster-blockd
// serving it and the controller calling it. Without TLS neither end can tell
// its peer from an impostor, and the shared key and the CHAP passwords cross
// the network in cleartext: only an explicit insecure flag allows that, and
// only the one that matches what is configured (an insecure flag the rest of
// the configuration contradicts or makes moot is refused too: it would say
// something that is not so). Each end words the refusal in its own flags.

/** How one end is to authenticate the TCP API. */
export interface TransportChoice {
  tls: boolean;
  key: boolean;
  insecureNoAuth: boolean;
  insecureKeyOverPlaintext: boolean;
}

/** One end's words: its flag names, and why it refuses each unauthenticated setting, with the remedy. */
export interface TransportWords {
  /** "--tls-*" */
  tlsFlags: string;
  /** "--key-file" */
  keyFile: string;
  /** "--insecure-no-auth" */
  insecureNoAuth: string;
  /** "--insecure-key-over-plaintext" */
  insecureKeyOverPlaintext: string;
  /** what insecureNoAuth makes this end do: "serves every caller" */
  noAuthDoes: string;
  /** the refusal of neither TLS nor a key (nor insecureNoAuth) */
  noAuth: string;
  /** the refusal of a key without TLS (nor insecureKeyOverPlaintext) */
  keyWithoutTls: string;
}

/** Why this end must not run its TCP API so, in its own words; undefined when it may. */
export function transportRefusal(c: TransportChoice, w: TransportWords): string | undefined {
  if (c.insecureNoAuth && (c.tls || c.key)) {
    return `${w.insecureNoAuth} ${w.noAuthDoes} without authentication, but ${w.tlsFlags}/${w.keyFile} configure it: drop ${w.insecureNoAuth} or those flags`;
  }
  if (c.insecureKeyOverPlaintext && (c.tls || !c.key)) {
    const only = `${w.insecureKeyOverPlaintext} is only for ${w.keyFile} without TLS`;
    return c.tls ? `${only}, and TLS is configured: drop ${w.insecureKeyOverPlaintext}` : `${only}, and there is no ${w.keyFile}`;
  }
  if (!c.tls && !c.key && !c.insecureNoAuth) return w.noAuth;
  if (!c.tls && c.key && !c.insecureKeyOverPlaintext) return w.keyWithoutTls;
  return undefined;
}
