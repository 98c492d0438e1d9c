# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a firewall lives, and what a firewall rule is.

A firewall scope is one of PVE's rule environments (pve-firewall src/PVE/API2/Firewall/Rules.pm, Cluster.pm,
Host.pm, VM.pm, Vnet.pm, Groups.pm): the cluster (/cluster/firewall), a node (/nodes/{node}/firewall), a VM
(/nodes/{node}/qemu/{vmid}/firewall), a PVE 9 SDN vnet (/cluster/sdn/vnets/{vnet}/firewall) or a security group
(/cluster/firewall/groups/{group}).

A rule is checked here the way PVE::Firewall::verify_rule and its formats check it (pve-firewall
src/PVE/Firewall.pm: the rule types each environment allows, actions, macros, pve-fw-addr-spec,
parse_port_name_number_or_range, pve-fw-protocol-spec, icmp types, log levels), before any write, naming the
field (`rules[3].dport`). It is then put in the form PVE reads it back in from its .fw file (parse_fw_rule):
`enable` is 1 unless the rule is disabled, `log nolog` is no log, a comment is trimmed, a macro has PVE's
spelling, a security-group rule keeps only iface, enable and comment. Two rules are the same rule when these
forms are equal: rules match by content, never by position.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.scmp.iaas.plugins.module_utils.errors import ValidationError

LEVELS = ('cluster', 'node', 'vm', 'vnet', 'group')
# The rule types PVE::Firewall::verify_rule allows per rule environment (PVE 9: a vnet's bridge has forward rules).
RULE_TYPES = {'cluster': ('in', 'out', 'forward', 'group'), 'node': ('in', 'out', 'forward', 'group'),
              'vm': ('in', 'out', 'group'), 'vnet': ('forward', 'group'), 'group': ('in', 'out', 'forward')}
ACTIONS = ('ACCEPT', 'DROP', 'REJECT')
LOG_LEVELS = ('emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog')
# The fields of a rule, in the order a rule reads (and its content key is built).
RULE_FIELDS = ('type', 'action', 'macro', 'iface', 'source', 'dest', 'proto', 'sport', 'dport', 'icmp-type', 'log',
               'enable', 'comment')
# Accepted spellings of icmp-type (the API's name, or the Ansible-friendly one).
FIELD_ALIASES = {'icmp_type': 'icmp-type'}
# What PVE keeps of a security-group reference rule (parse_fw_rule stops after -i for type group).
GROUP_RULE_FIELDS = ('type', 'action', 'iface', 'enable', 'comment')
NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_-]+$')
# pve-security-group-name: at most 18 characters.
GROUP_NAME_MAX = 18
ALIAS_NAME_MAX = 64
IPSET_NAME_MAX = 64
ALIAS_REF = re.compile(r'^(?:dc/|guest/)?[A-Za-z][A-Za-z0-9_-]+$')
IPSET_REF = re.compile(r'^\+(?:dc/|guest/|sdn/)?[A-Za-z][A-Za-z0-9_-]+$')
# pve-iface (pve-common PVE::JSONSchema::pve_verify_iface); a guest's rules name its NICs netN.
IFACE = re.compile(r'^[a-zA-Z][a-zA-Z0-9_.-]{0,18}[a-zA-Z0-9]$')
GUEST_IFACE = re.compile(r'^net\d+$')
PORT_PROTOCOLS = ('tcp', 'udp', 'udplite', 'dccp', 'sctp', '6', '17', '136', '33', '132')
ICMP_PROTOCOLS = ('icmp', 'icmpv6', 'ipv6-icmp', '1', '58')
# /etc/protocols names PVE resolves (and icmpv6, which pve-fw-protocol-spec allows besides); numbers 0-255 too.
PROTOCOLS = ('ip', 'hopopt', 'icmp', 'igmp', 'ggp', 'ipencap', 'st', 'tcp', 'egp', 'igp', 'pup', 'udp', 'hmp',
             'xns-idp', 'rdp', 'iso-tp4', 'dccp', 'xtp', 'ddp', 'idpr-cmtp', 'ipv6', 'ipv6-route', 'ipv6-frag', 'idrp',
             'rsvp', 'gre', 'esp', 'ah', 'skip', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'rspf', 'vmtp', 'eigrp',
             'ospf', 'ax.25', 'ipip', 'etherip', 'encap', 'pim', 'ipcomp', 'vrrp', 'l2tp', 'isis', 'sctp', 'fc',
             'mobility-header', 'udplite', 'mpls-in-ip', 'manet', 'hip', 'shim6', 'wesp', 'rohc', 'ethernet', 'icmpv6')
# PVE::Firewall $icmp_type_names and $icmpv6_type_names.
ICMP_TYPES = frozenset('''any echo-reply destination-unreachable network-unreachable host-unreachable
protocol-unreachable port-unreachable fragmentation-needed source-route-failed network-unknown host-unknown
network-prohibited host-prohibited TOS-network-unreachable TOS-host-unreachable communication-prohibited
host-precedence-violation precedence-cutoff source-quench redirect network-redirect host-redirect
TOS-network-redirect TOS-host-redirect echo-request router-advertisement router-solicitation time-exceeded
ttl-zero-during-transit ttl-zero-during-reassembly parameter-problem ip-header-bad required-option-missing
timestamp-request timestamp-reply address-mask-request address-mask-reply'''.split())
ICMPV6_TYPES = frozenset('''destination-unreachable no-route communication-prohibited beyond-scope
address-unreachable port-unreachable failed-policy reject-route packet-too-big time-exceeded ttl-zero-during-transit
ttl-zero-during-reassembly parameter-problem bad-header unknown-header-type unknown-option echo-request echo-reply
router-solicitation router-advertisement neighbor-solicitation neighbour-solicitation neighbor-advertisement
neighbour-advertisement redirect'''.split())
# PVE::Firewall $pve_fw_macros: PVE matches a macro case-insensitively and keeps this spelling.
MACROS = tuple('''Amanda Auth BGP BitTorrent BitTorrent32 Ceph CVS Citrix DAAP DCC DHCPfwd DHCPv6 DNS Distcc FTP
Finger GNUnet GRE Git HKP HTTP HTTPS ICPV2 ICQ IMAP IMAPS IPIP IPsec IPsecah IPsecnat IRC Jetdirect L2TP LDAP LDAPS
MDNS MSNP MSSQL Mail Munin MySQL NNTP NNTPS NTP NeighborDiscovery OSPF OpenVPN PCA PMG POP3 POP3S PPtP Ping
PostgreSQL Printer RDP RIP RNDC Razor Rdate Rsync SANE SMB SMBswat SMTP SMTPS SNMP SPAMD SPICEproxy SSH SVN SixXS
Squid Submission Syslog TFTP Telnet Telnets Time Trcrt VNC VNCL Web Webcache Webmin Whois'''.split())
MACRO_SPELLING = dict((m.lower(), m) for m in MACROS)
# Service names PVE resolves through the node's /etc/services (Debian netbase): the common ones. Anything else is
# better written as a port number.
SERVICES = frozenset('''tcpmux echo discard systat daytime netstat qotd chargen ftp-data ftp ssh telnet smtp time
whois tacacs domain gopher finger http kerberos iso-tsap acr-nema pop3 sunrpc auth nntp epmap netbios-ns netbios-dgm
netbios-ssn imap2 imap snmp snmp-trap cmip-man cmip-agent mailq xdmcp bgp irc smux qmtp z3950 ipx ptp-event
ptp-general pawserv zserv rpc2portmap codaauth2 clearcase ldap svrloc https snpp microsoft-ds kpasswd submissions
saft gdomap tftp bootps bootpc ntp isakmp syslog printer talk ntalk route gdomap uucp klogin kshell dhcpv6-client
dhcpv6-server afpovertcp nntps submission ldaps tinc silc kerberos-adm domain-s rsync ftps-data ftps telnets imaps
pop3s socks proofd rootd openvpn rmiregistry lotusnote ms-sql-s ms-sql-m ingreslock datametrics sa-msg-port
kermit groupwise l2f radius radius-acct rtcm-sc104 cvspserver venus venus-se codasrv codasrv-se mon dict gsigatekeeper
gris icpv2 mysql nut distcc daap svn suucp sysrqd sieve epmd remctl f5-globalsite iprop rfe mmcc sip sip-tls
aol xmpp-client xmpp-server cfengine mdns postgresql freeciv amqps amqp x11 x11-1 x11-2 x11-3 x11-4 x11-5 x11-6
x11-7 gnutella-svc gnutella-rtr redis sge-qmaster sge-execd mysql-proxy bacula-dir bacula-fd bacula-sd gds-db
xmms2 nbd zabbix-agent zabbix-trapper hkp omniorb clc-build-daemon xinetd git zope webmin kamanda amandaidx
amidxtape smsqp xpilot sgi-cmsd sgi-crsd sgi-gcd sgi-cad binkp asp csync2 dircproxy tfido fido vnc ceph-mon
spamd prometheus-node-exporter domain netbios imap3 rtsp nfs http-alt webcache tproxy nrpe nsca'''.split())
MAX_PORT_NUMBERS = 15


def at(field, name):
    return '{0}.{1}'.format(field, name) if field else name


# ------------------------------------------------------------------------------------------------ scope

class Scope:
    """One firewall: level (cluster, node, vm, vnet, group) and what names it."""

    def __init__(self, level, node=None, vmid=None, vnet=None, group=None):
        self.level = level
        self.node = node
        self.vmid = vmid
        self.vnet = vnet
        self.group = group

    @classmethod
    def from_desired(cls, desired, levels=LEVELS):
        level = desired.get('level') or 'cluster'
        if level not in levels:
            raise ValidationError('level', 'unknown level {0!r}'.format(level), allowed=levels)
        node, vmid, vnet, group = (desired.get(k) for k in ('node', 'vmid', 'vnet', 'group'))
        needs = {'node': ('node',), 'vm': ('vmid',), 'vnet': ('vnet',), 'group': ('group',)}.get(level, ())
        for name in needs:
            if desired.get(name) in (None, ''):
                raise ValidationError(name, 'is required for level {0}'.format(level))
        allowed = {'cluster': (), 'node': ('node',), 'vm': ('node', 'vmid'), 'vnet': ('vnet',),
                   'group': ('group',)}[level]
        for name in ('node', 'vmid', 'vnet', 'group'):
            if name not in allowed and desired.get(name) not in (None, ''):
                raise ValidationError(name, 'is not used at level {0}'.format(level),
                                      allowed=', '.join(allowed) or 'no scope option')
        if vmid is not None:
            try:
                vmid = int(vmid)
            except (TypeError, ValueError):
                raise ValidationError('vmid', 'must be a VMID, got {0!r}'.format(vmid))
            if vmid < 100 or vmid > 999999999:
                raise ValidationError('vmid', 'must be between 100 and 999999999, got {0}'.format(vmid))
        if level == 'group':
            check_name('group', group, GROUP_NAME_MAX)
        if level == 'vnet' and not re.match(r'^[a-z][a-z0-9]{1,7}$', str(vnet)):
            raise ValidationError('vnet', 'invalid vnet id {0!r}'.format(vnet),
                                  allowed='2 to 8 lower-case letters and digits, starting with a letter')
        return cls(level, node=node, vmid=vmid, vnet=vnet, group=group)

    def resolve(self, client):
        """Find the node of a VM given by VMID alone (/cluster/resources); a read, before any write."""
        if self.level != 'vm' or self.node:
            return self
        for guest in client.get('/cluster/resources', type='vm'):
            if str(guest.get('vmid')) == str(self.vmid) and guest.get('type', 'qemu') == 'qemu':
                self.node = guest.get('node')
                return self
        raise ValidationError('vmid', 'there is no VM {0} in the cluster'.format(self.vmid), value=self.vmid)

    @property
    def base(self):
        if self.level == 'cluster' or self.level == 'group':
            return '/cluster/firewall'
        if self.level == 'node':
            return '/nodes/{0}/firewall'.format(self.node)
        if self.level == 'vm':
            return '/nodes/{0}/qemu/{1}/firewall'.format(self.node, self.vmid)
        return '/cluster/sdn/vnets/{0}/firewall'.format(self.vnet)

    @property
    def rules_path(self):
        if self.level == 'group':
            return '/cluster/firewall/groups/{0}'.format(self.group)
        return self.base + '/rules'

    @property
    def label(self):
        return {'cluster': 'the cluster firewall', 'node': 'the firewall of node {0}'.format(self.node),
                'vm': 'the firewall of VM {0}'.format(self.vmid), 'vnet': 'the firewall of vnet {0}'.format(self.vnet),
                'group': 'security group {0}'.format(self.group)}[self.level]

    @property
    def identity(self):
        return {'cluster': 'cluster', 'node': 'node/{0}'.format(self.node), 'vm': 'vm/{0}'.format(self.vmid),
                'vnet': 'vnet/{0}'.format(self.vnet), 'group': 'group/{0}'.format(self.group)}[self.level]


def check_name(field, value, limit):
    if not isinstance(value, str) or not NAME.match(value):
        raise ValidationError(field, 'invalid name {0!r}'.format(value),
                              allowed='letters, digits, - and _, starting with a letter, at least 2 characters')
    if len(value) > limit:
        raise ValidationError(field, 'name {0!r} is longer than {1} characters'.format(value, limit))
    return value


# ------------------------------------------------------------------------------------------ field checks

def _text(field, value):
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValidationError(field, 'must be a string, got {0!r}'.format(value))
    return str(value).strip()


def boolean(field, value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('1', 'true', 'yes', 'on'):
        return True
    if text in ('0', 'false', 'no', 'off'):
        return False
    raise ValidationError(field, 'must be true or false, got {0!r}'.format(value))


def check_ports(field, text, icmp_ok=False):
    """parse_port_name_number_or_range: numbers 1-65535, ranges a:b, service names, comma-separated (<= 15)."""
    items = text.split(',')
    if any(item == '' for item in items):
        raise ValidationError(field, 'empty entry in port list {0!r}'.format(text),
                              allowed='port numbers 1-65535, ranges a:b, service names, separated by commas')
    count = 0
    icmp_names = False
    for item in items:
        found = re.match(r'^(\d+):(\d+)$', item)
        if found:
            first, last = int(found.group(1)), int(found.group(2))
            for port in (first, last):
                if not 1 <= port <= 65535:
                    raise ValidationError(field, 'invalid port {0} in {1!r}'.format(port, text), allowed='1-65535')
            if first > last:
                raise ValidationError(field, "backwards range '{0}:{1}' not allowed, did you mean '{1}:{0}'?".format(
                    first, last))
            count += 2
        elif item.isdigit():
            if not 1 <= int(item) <= 65535:
                raise ValidationError(field, 'invalid port {0} in {1!r}'.format(item, text), allowed='1-65535')
            count += 1
        elif icmp_ok and (item in ICMP_TYPES or item in ICMPV6_TYPES):
            icmp_names = True
        elif item not in SERVICES:
            raise ValidationError(field, 'invalid port {0!r}'.format(item),
                                  allowed='port numbers 1-65535, ranges a:b (1024:2048), service names from '
                                          '/etc/services (ssh, http, https, ...), separated by commas')
    if icmp_names and count:
        raise ValidationError(field, 'ICMP ports not allowed in port range')
    if count > MAX_PORT_NUMBERS:
        raise ValidationError(field, 'too many entries in port list (> 15 numbers)')
    return text


def _ip_or_network(text):
    try:
        if '/' in text:
            if not re.match(r'^[0-9a-fA-F:.]+/\d+$', text):
                return None
            return ipaddress.ip_network(text, strict=True)
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_address(field, text):
    """pve-fw-addr-spec: an IP, a CIDR, a range a-b, a comma list of IPs and CIDRs, an alias or +ipset."""
    if text.startswith('+'):
        if not IPSET_REF.match(text) or len(text) > IPSET_NAME_MAX + 1:
            raise ValidationError(field, 'invalid IP set reference {0!r}'.format(text),
                                  allowed='+name, +dc/name, +guest/name or +sdn/name')
        return text
    if ALIAS_REF.match(text):
        if len(text) > ALIAS_NAME_MAX:
            raise ValidationError(field, 'alias name too long')
        return text
    allowed = ('an IP address, a CIDR network (10.0.0.0/24), a range (10.0.0.1-10.0.0.9), a comma-separated list of '
               'addresses and networks, an alias name or +ipset')
    elements = text.split(',')
    version = None
    for element in elements:
        parts = element.split('-')
        if len(parts) > 2 or (len(parts) == 2 and len(elements) > 1):
            raise ValidationError(field, "invalid address list {0!r}: you can't use a range in a list".format(text)
                                  if len(parts) == 2 else 'not a valid IP or IP range: {0!r}'.format(element),
                                  allowed=allowed)
        found = []
        for part in parts:
            value = _ip_or_network(part)
            if value is None or (len(parts) == 2 and '/' in part):
                raise ValidationError(field, 'not a valid IP or CIDR: {0!r}'.format(part), allowed=allowed)
            if version and value.version != version:
                raise ValidationError(field, 'mixed IPv4 and IPv6 addresses in {0!r}'.format(text))
            version = value.version
            found.append(value)
        if len(found) == 2 and found[1] < found[0]:
            raise ValidationError(field, 'last IP address is before first IP address in {0!r}'.format(element))
    return text


def check_protocol(field, value):
    text = value.lower()
    if text in PROTOCOLS:
        return text
    if text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))
    raise ValidationError(field, 'unknown protocol {0!r}'.format(value),
                          allowed='a name from /etc/protocols (tcp, udp, icmp, icmpv6, ...) or a number 0-255')


# -------------------------------------------------------------------------------------------------- rules

def normal_rule(field, raw, level):
    """A desired rule, checked and in PVE's read-back form: a dict with every RULE_FIELDS key (None: not set)."""
    if not isinstance(raw, dict):
        raise ValidationError(field, 'must be a dict (type, action, proto, dport, ...), got {0!r}'.format(raw))
    given = {}
    for key, value in raw.items():
        name = FIELD_ALIASES.get(key, key)
        if name not in RULE_FIELDS and name != 'pos':
            raise ValidationError(at(field, key), 'unknown rule field',
                                  allowed=', '.join(f.replace('icmp-type', 'icmp_type') for f in RULE_FIELDS))
        if name == 'pos':
            raise ValidationError(at(field, key), 'rules have no position: their order in the list is their order')
        given[name] = value
    rule = dict((k, None) for k in RULE_FIELDS)
    types = RULE_TYPES[level]
    rtype = _text(at(field, 'type'), given.get('type'))
    rtype = rtype.lower() if rtype else rtype
    if not rtype:
        raise ValidationError(at(field, 'type'), 'is required', allowed=types)
    if rtype not in types:
        raise ValidationError(at(field, 'type'), 'invalid rule type {0!r} for a {1} firewall'.format(
            rtype, 'security group' if level == 'group' else level), allowed=types)
    rule['type'] = rtype
    action = _text(at(field, 'action'), given.get('action'))
    if not action:
        raise ValidationError(at(field, 'action'), 'is required',
                              allowed='a security group name' if rtype == 'group' else ACTIONS)
    if rtype == 'group':
        if not NAME.match(action) or len(action) > GROUP_NAME_MAX:
            raise ValidationError(at(field, 'action'), 'invalid security group name {0!r}'.format(action),
                                  allowed='the name of a security group')
        extra = sorted(k for k in given if k not in GROUP_RULE_FIELDS and given[k] not in (None, ''))
        if extra:
            raise ValidationError(at(field, extra[0]), 'is not kept by Proxmox for a rule of type group',
                                  allowed=', '.join(GROUP_RULE_FIELDS))
    else:
        action = action.upper()
        if action not in ACTIONS:
            raise ValidationError(at(field, 'action'), 'unknown action {0!r}'.format(action), allowed=ACTIONS)
        if rtype == 'forward' and action == 'REJECT':
            raise ValidationError(at(field, 'action'), 'cannot define REJECT rules on forward chain',
                                  allowed='ACCEPT, DROP')
    rule['action'] = action
    iface = _text(at(field, 'iface'), given.get('iface')) or None
    if iface is not None:
        if level == 'group':
            raise ValidationError(at(field, 'iface'), 'a security group rule has no interface (set it on the rule '
                                                      'that uses the group)')
        if level == 'vm' and not GUEST_IFACE.match(iface):
            raise ValidationError(at(field, 'iface'), 'invalid interface {0!r} for a VM'.format(iface),
                                  allowed='net0, net1, ...')
        if not IFACE.match(iface):
            raise ValidationError(at(field, 'iface'), 'invalid interface name {0!r}'.format(iface))
    rule['iface'] = iface
    macro = _text(at(field, 'macro'), given.get('macro')) or None
    if macro is not None:
        if macro.lower() not in MACRO_SPELLING:
            raise ValidationError(at(field, 'macro'), 'unknown macro {0!r}'.format(macro), allowed=MACROS)
        macro = MACRO_SPELLING[macro.lower()]
    rule['macro'] = macro
    proto = _text(at(field, 'proto'), given.get('proto')) or None
    if proto is not None:
        proto = check_protocol(at(field, 'proto'), proto)
    rule['proto'] = proto
    is_icmp = proto in ICMP_PROTOCOLS
    for name in ('dport', 'sport'):
        value = _text(at(field, name), given.get(name))
        value = re.sub(r'\s*,\s*', ',', value) if value else None
        if value:
            check_ports(at(field, name), value, icmp_ok=is_icmp and name == 'dport')
            if not proto:
                raise ValidationError(at(field, 'proto'), "missing: '{0}' requires a protocol".format(name),
                                      allowed=', '.join(PORT_PROTOCOLS[:5]))
            if proto not in PORT_PROTOCOLS and not (is_icmp and name == 'dport'):
                raise ValidationError(at(field, name), 'protocol {0!r} does not support ports'.format(proto),
                                      allowed='proto ' + ', '.join(PORT_PROTOCOLS[:5]))
        rule[name] = value
    icmp = _text(at(field, 'icmp-type'), given.get('icmp-type')) or None
    if icmp is not None:
        if not is_icmp:
            raise ValidationError(at(field, 'icmp-type'), 'is only for the ICMP protocols',
                                  allowed='proto icmp, icmpv6 or ipv6-icmp')
        if rule['dport']:
            raise ValidationError(at(field, 'icmp-type'), "'icmp-type' cannot be specified together with 'dport'")
        names = ICMP_TYPES if proto in ('icmp', '1') else ICMPV6_TYPES
        if icmp not in names:
            raise ValidationError(at(field, 'icmp-type'), 'invalid icmp-type {0!r} for proto {1!r}'.format(
                icmp, proto), allowed=sorted(names))
    rule['icmp-type'] = icmp
    versions = set()
    for name in ('source', 'dest'):
        value = _text(at(field, name), given.get(name))
        value = re.sub(r'\s*,\s*', ',', value) if value else None
        if value:
            check_address(at(field, name), value)
            head = value.split(',')[0].split('-')[0]
            if _ip_or_network(head) is not None:
                versions.add(_ip_or_network(head).version)
        rule[name] = value
    if len(versions) > 1:
        raise ValidationError(at(field, 'dest'), 'source and dest mix IPv4 and IPv6 addresses')
    log = _text(at(field, 'log'), given.get('log')) or None
    if log is not None:
        log = log.lower()
        if log not in LOG_LEVELS:
            raise ValidationError(at(field, 'log'), 'unknown log level {0!r}'.format(log), allowed=LOG_LEVELS)
    rule['log'] = None if log == 'nolog' else log
    enable = boolean(at(field, 'enable'), given.get('enable'))
    rule['enable'] = 0 if enable is False else 1
    comment = _text(at(field, 'comment'), given.get('comment'))
    if comment is not None and '\n' in comment:
        raise ValidationError(at(field, 'comment'), 'must be a single line')
    rule['comment'] = comment or None
    return rule


def desired_rules(field, rules, level):
    if rules is None:
        return None
    if not isinstance(rules, (list, tuple)):
        raise ValidationError(field, 'must be a list of rules, got {0!r}'.format(rules))
    return [normal_rule('{0}[{1}]'.format(field, n), rule, level) for n, rule in enumerate(rules)]


def existing_rule(data):
    """A rule as GET .../rules lists it, in the same form as normal_rule (parse_fw_rule's reading)."""
    rule = dict((k, None) for k in RULE_FIELDS)
    for key in RULE_FIELDS:
        value = data.get(key)
        if value is None or value == '':
            continue
        rule[key] = str(value).strip() if key != 'enable' else value
    if rule['macro'] and rule['macro'].lower() in MACRO_SPELLING:
        rule['macro'] = MACRO_SPELLING[rule['macro'].lower()]
    enable = data.get('enable')
    rule['enable'] = 0 if enable is not None and str(enable).strip() in ('0', 'False', 'false') else 1
    if rule['log'] == 'nolog':
        rule['log'] = None
    rule['comment'] = rule['comment'] or None
    if rule['type'] == 'group':
        for key in RULE_FIELDS:
            if key not in GROUP_RULE_FIELDS:
                rule[key] = None
    return rule


def rule_key(rule):
    return tuple(rule[k] for k in RULE_FIELDS)


def public_rule(rule):
    """A rule for results and diffs: the fields that are set (icmp_type spelt for Ansible), enable as a bool."""
    out = {}
    for key in RULE_FIELDS:
        value = rule.get(key)
        if key == 'enable':
            out['enable'] = bool(value)
        elif value is not None:
            out[key.replace('-', '_')] = value
    return out


def rule_text(rule):
    """A rule in one line, the way PVE writes it in its .fw file."""
    words = [('' if rule['enable'] else '|') + rule['type'].upper()]
    words.append('{0}({1})'.format(rule['macro'], rule['action']) if rule['macro'] else rule['action'])
    for key, flag in (('iface', '-i'), ('source', '-source'), ('dest', '-dest'), ('proto', '-p'),
                      ('dport', '-dport'), ('sport', '-sport'), ('log', '-log'), ('icmp-type', '-icmp-type')):
        if rule.get(key):
            words.append('{0} {1}'.format(flag, rule[key]))
    if rule.get('comment'):
        words.append('# ' + rule['comment'])
    return ' '.join(words)


def rule_params(rule):
    """The API parameters that create a rule (enable always given: PVE's create_rule defaults it to 0)."""
    params = dict((k, v) for k, v in rule.items() if v is not None and k in RULE_FIELDS)
    params['enable'] = 1 if rule['enable'] else 0
    return params


def update_params(old, new):
    """The API parameters that turn rule `old` into `new` in place (PUT .../rules/{pos}), clearing what goes."""
    params = rule_params(new)
    gone = [k for k in RULE_FIELDS if new.get(k) is None and old.get(k) is not None and k not in ('type', 'action')]
    if gone:
        params['delete'] = ','.join(gone)
    return params
