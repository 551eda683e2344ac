"""A name server for tests, on 127.0.0.1:53 (run it in a NetnsHost): answers from TABLE, names
under .test only (RFC 6761). An entry is a list of records, or NXDOMAIN, SERVFAIL, REFUSED, or
DROP (no answer at all). Arguments NAME=IP,IP,... add names answering with those addresses, in
that order.
"""
import socket
import struct
import sys

def a(ip): return (1, socket.inet_aton(ip))
def aaaa(ip): return (28, socket.inet_pton(socket.AF_INET6, ip))
def enc(name):
    out = b''
    for part in name.rstrip('.').split('.'):
        out += bytes([len(part)]) + part.encode()
    return out + b'\0'
def cname(n): return (5, enc(n))
def ptr(n): return (12, enc(n))
TABLE = {
 'one.test': [a('198.18.99.1')],
 'many.test': [a('198.18.99.1'), a('198.18.99.2'), a('198.18.99.3')],
 'six.test': [aaaa('2001:db8::1')],
 'both.test': [a('198.18.99.1'), aaaa('2001:db8::1')],
 'alias.test': [cname('middle.test'), cname('real.test'), a('198.18.99.7')],
 'empty.test': [],
 'nx.test': 'NXDOMAIN',
 'fail.test': 'SERVFAIL',
 'silent.test': 'DROP',
 'refused.test': 'REFUSED',
 '7.99.18.198.in-addr.arpa': [ptr('real.test')],
 '1.99.18.198.in-addr.arpa': [ptr('one.test')],
 '9.99.18.198.in-addr.arpa': 'SERVFAIL',
 '8.99.18.198.in-addr.arpa': 'DROP',
}
for arg in sys.argv[1:]:
    name, ips = arg.split('=')
    TABLE[name.lower()] = [aaaa(ip) if ':' in ip else a(ip) for ip in ips.split(',')]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 53))
print('ready', flush=True)
while True:
    q, peer = s.recvfrom(4096)
    qid, flags = struct.unpack('!HH', q[:4])
    i = 12; labels = []
    while q[i]:
        labels.append(q[i+1:i+1+q[i]].decode()); i += 1 + q[i]
    qtype, qclass = struct.unpack('!HH', q[i+1:i+5])
    question = q[12:i+5]
    name = '.'.join(labels).lower()
    entry = TABLE.get(name, 'NXDOMAIN')
    if entry == 'DROP': continue
    rcode = {'NXDOMAIN': 3, 'SERVFAIL': 2, 'REFUSED': 5}.get(entry, 0) if isinstance(entry, str) else 0
    answers = []
    if not isinstance(entry, str):
        owner = enc(name)
        for t, rdata in entry:
            if t == qtype or t == 5:
                answers.append(owner + struct.pack('!HHIH', t, 1, 60, len(rdata)) + rdata)
            if t == 5:
                owner = rdata
    hdr = struct.pack('!HHHHHH', qid, 0x8180 | (flags & 0x0100) | rcode, 1, len(answers), 0, 0)
    s.sendto(hdr + question + b''.join(answers), peer)
