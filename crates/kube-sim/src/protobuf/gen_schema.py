"""Generate kube-sim's protobuf schema table (schema.rs) from what a kubectl
binary carries: the gzipped FileDescriptorProtos gogo-protobuf registers (the
field numbers and types of k8s.io/api and k8s.io/apimachinery generated.proto,
exactly as that kubectl encodes them) and Go's reflect data for the same
structs (json tags, so names, `,inline` and `omitempty`; and whether a field is
a pointer, which decides if a zero value on the wire was set on purpose).

Usage: python3 gen_schema.py /usr/bin/kubectl "kubectl v1.32.4" > schema.rs

To decode another kind, add it to ROOTS; its messages are pulled in. The
output is checked against the JSON kubectl prints for the same object by the
tests in tests.rs (KUBECTL_BODIES). Needs a Go 1.2x linux/amd64 ELF binary.
"""
import re, struct, sys, zlib

BIN = sys.argv[1] if len(sys.argv) > 1 else '/usr/bin/kubectl'
data = open(BIN, 'rb').read()

# ---- protobuf FileDescriptorProtos (gzipped, registered by gogo-protobuf) ----
def varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7f) << s; s += 7
        if c < 128: return r, i

def fields(b):
    i = 0; out = []
    while i < len(b):
        k, i = varint(b, i); f = k >> 3; w = k & 7
        if w == 0: v, i = varint(b, i)
        elif w == 2:
            l, i = varint(b, i); v = b[i:i + l]; i += l
        elif w == 1: v = b[i:i + 8]; i += 8
        elif w == 5: v = b[i:i + 4]; i += 4
        else: raise ValueError(w)
        out.append((f, v))
    return out

PTYPES = {1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 8: 'bool',
          9: 'string', 11: 'msg', 12: 'bytes', 13: 'uint32'}
msgs = {}  # full name -> ([(name, num, label, type, typename)], is_map_entry)

def walk_msg(b, prefix):
    fl = fields(b)
    full = prefix + '.' + [v for f, v in fl if f == 1][0].decode()
    fs = []; mapentry = False
    for f, v in fl:
        if f == 2:
            d = dict(fields(v))
            fs.append((d[1].decode(), d[3], d.get(4, 1), PTYPES[d[5]], d.get(6, b'').decode()))
        elif f == 3:
            walk_msg(v, full)
        elif f == 7:
            mapentry = any(ff == 7 and vv for ff, vv in fields(v))
    msgs[full] = (fs, mapentry)

for m in re.finditer(b'\x1f\x8b\x08\x00\x00\x00\x00\x00', data):
    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[m.start():m.start() + 2000000])
    except Exception:
        continue
    if b'generated.proto' not in out[:200]:
        continue
    fl = fields(out)
    pkg = [v for f, v in fl if f == 2][0].decode()
    for f, v in fl:
        if f == 4: walk_msg(v, '.' + pkg)

# ---- Go struct fields (name+tag, and the field type's reflect.Kind) ----
sec = None
shoff = struct.unpack_from('<Q', data, 0x28)[0]
shnum = struct.unpack_from('<H', data, 0x3c)[0]
shstr = struct.unpack_from('<H', data, 0x3e)[0]
def sh(i):
    return struct.unpack_from('<IIQQQQ', data, shoff + i * 64)
stroff = sh(shstr)[4]
for i in range(shnum):
    name_off, _, _, addr, off, size = sh(i)
    nm = data[stroff + name_off:data.index(b'\0', stroff + name_off)]
    if nm == b'.rodata':
        RO_VA, RO_OFF, RO_SZ = addr, off, size
ro = data[RO_OFF:RO_OFF + RO_SZ]

def readname(off):
    flags = ro[off]; i = off + 1
    l, i = varint(ro, i); nm = ro[i:i + l].decode('latin1'); i += l
    tag = ''
    if flags & 2:
        tl, i = varint(ro, i); tag = ro[i:i + tl].decode('latin1')
    return nm, tag

GO_PTR = 22
PB_TAG = re.compile(r'protobuf:"[a-z0-9]+,(\d+)[,"]')

# Every struct type: abi.StructType is Type (48 bytes, Str nameOff at +40,
# Kind at +23, TFlagUncommon in TFlag at +20), PkgPath Name (+48), Fields
# slice (+56 ptr, +64 len, +72 cap), then UncommonType (PkgPath nameOff at +80).
# Each StructField is (Name *byte, Typ *Type, Offset uintptr).
go_structs = {}
for i in range(56, len(ro) - 24, 8):
    p, l, c = struct.unpack_from('<QQQ', ro, i)
    if not (l == c and 0 < l < 200 and RO_VA <= p < RO_VA + RO_SZ):
        continue
    t = i - 56
    if ro[t + 23] & 0x1f != 25 or not ro[t + 20] & 1:
        continue
    try:
        tname, _ = readname(struct.unpack_from('<i', ro, t + 40)[0])
        pkg, _ = readname(struct.unpack_from('<i', ro, t + 80)[0])
        fs = []
        for j in range(l):
            np, tp, _ = struct.unpack_from('<QQQ', ro, p - RO_VA + 24 * j)
            fname, ftag = readname(np - RO_VA)
            fs.append((fname, ftag, ro[tp - RO_VA + 23] & 0x1f))
    except Exception:
        continue
    go_structs[(pkg, tname.lstrip('*').split('.')[-1])] = fs

def go_fields(full):
    pkg, _, name = full[1:].rpartition('.')
    fs = go_structs.get((pkg.replace('.', '/').replace('k8s/io', 'k8s.io'), name))
    if fs is None:
        return None
    out = {}
    for fname, tag, kind in fs:
        m = PB_TAG.search(tag)
        if m:
            out[int(m.group(1))] = (kind, tag)
    return out

# ---- schema ----
SPECIAL = {
    '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'Time',
    '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'MicroTime',
    '.k8s.io.apimachinery.pkg.apis.meta.v1.Duration': 'Duration',
    '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'RawJson',
    '.k8s.io.apimachinery.pkg.runtime.RawExtension': 'RawJson',
    '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'IntOrString',
    '.k8s.io.apimachinery.pkg.api.resource.Quantity': 'Quantity',
}
ROOTS = [
    ('v1', 'ConfigMap', '.k8s.io.api.core.v1.ConfigMap'),
    ('v1', 'Secret', '.k8s.io.api.core.v1.Secret'),
    ('v1', 'Namespace', '.k8s.io.api.core.v1.Namespace'),
    ('v1', 'ServiceAccount', '.k8s.io.api.core.v1.ServiceAccount'),
    ('v1', 'Pod', '.k8s.io.api.core.v1.Pod'),
    ('v1', 'Service', '.k8s.io.api.core.v1.Service'),
    ('v1', 'ResourceQuota', '.k8s.io.api.core.v1.ResourceQuota'),
    ('v1', 'DeleteOptions', '.k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions'),
    ('apps/v1', 'Deployment', '.k8s.io.api.apps.v1.Deployment'),
    ('apps/v1', 'ReplicaSet', '.k8s.io.api.apps.v1.ReplicaSet'),
    ('apps/v1', 'StatefulSet', '.k8s.io.api.apps.v1.StatefulSet'),
    ('apps/v1', 'DaemonSet', '.k8s.io.api.apps.v1.DaemonSet'),
    ('batch/v1', 'Job', '.k8s.io.api.batch.v1.Job'),
    ('batch/v1', 'CronJob', '.k8s.io.api.batch.v1.CronJob'),
    ('rbac.authorization.k8s.io/v1', 'Role', '.k8s.io.api.rbac.v1.Role'),
    ('rbac.authorization.k8s.io/v1', 'ClusterRole', '.k8s.io.api.rbac.v1.ClusterRole'),
    ('rbac.authorization.k8s.io/v1', 'RoleBinding', '.k8s.io.api.rbac.v1.RoleBinding'),
    ('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', '.k8s.io.api.rbac.v1.ClusterRoleBinding'),
    ('networking.k8s.io/v1', 'Ingress', '.k8s.io.api.networking.v1.Ingress'),
    ('policy/v1', 'PodDisruptionBudget', '.k8s.io.api.policy.v1.PodDisruptionBudget'),
    ('policy/v1', 'Eviction', '.k8s.io.api.policy.v1.Eviction'),
    ('scheduling.k8s.io/v1', 'PriorityClass', '.k8s.io.api.scheduling.v1.PriorityClass'),
    ('autoscaling/v1', 'HorizontalPodAutoscaler', '.k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler'),
    ('autoscaling/v2', 'HorizontalPodAutoscaler', '.k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler'),
    ('autoscaling/v1', 'Scale', '.k8s.io.api.autoscaling.v1.Scale'),
    ('authentication.k8s.io/v1', 'TokenRequest', '.k8s.io.api.authentication.v1.TokenRequest'),
    ('authorization.k8s.io/v1', 'SelfSubjectAccessReview', '.k8s.io.api.authorization.v1.SelfSubjectAccessReview'),
    ('authorization.k8s.io/v1', 'SelfSubjectRulesReview', '.k8s.io.api.authorization.v1.SelfSubjectRulesReview'),
    ('authorization.k8s.io/v1', 'SubjectAccessReview', '.k8s.io.api.authorization.v1.SubjectAccessReview'),
    ('authorization.k8s.io/v1', 'LocalSubjectAccessReview', '.k8s.io.api.authorization.v1.LocalSubjectAccessReview'),
    ('authentication.k8s.io/v1', 'SelfSubjectReview', '.k8s.io.api.authentication.v1.SelfSubjectReview'),
    ('authentication.k8s.io/v1beta1', 'SelfSubjectReview', '.k8s.io.api.authentication.v1beta1.SelfSubjectReview'),
    ('authentication.k8s.io/v1', 'TokenReview', '.k8s.io.api.authentication.v1.TokenReview'),
    ('v1', 'Binding', '.k8s.io.api.core.v1.Binding'),
]

def rust_name(full):
    s = full.replace('.k8s.io.apimachinery.pkg.apis.', '').replace('.k8s.io.api.', '')
    parts = s.split('.')
    last = re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', parts[-1])
    last = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', last)
    return '_'.join(p.upper() for p in parts[:-1] + [last])

order = []; seen = set()
def visit(full):
    if full in seen or full in SPECIAL:
        return
    seen.add(full)
    for (_, _, _, t, tn) in msgs[full][0]:
        if t == 'msg':
            if msgs[tn][1]:
                vf = [x for x in msgs[tn][0] if x[0] == 'value'][0]
                if vf[3] == 'msg': visit(vf[4])
            else:
                visit(tn)
    order.append(full)
for _, _, full in ROOTS: visit(full)

SCALAR = {'string': 'Str', 'bytes': 'Bytes', 'int32': 'I32', 'int64': 'I64', 'bool': 'Bool'}
def ty_of(t, tn):
    if t == 'msg':
        if tn in SPECIAL: return 'Ty::' + SPECIAL[tn]
        return 'Ty::Msg(&%s)' % rust_name(tn)
    return 'Ty::' + SCALAR[t]

# Go's `type ExtraValue []string` is no struct: it is never in a body kubectl
# sends (user info extras), so it stays the proto shape, `{"items": [...]}`.
NO_STRUCT_OK = {'.k8s.io.api.authorization.v1.ExtraValue',
                '.k8s.io.api.authentication.v1.ExtraValue',
                '.k8s.io.api.authentication.v1beta1.ExtraValue'}
out = []
warn = []
for full in order:
    fs, _ = msgs[full]
    gf = go_fields(full)
    if gf is None and full not in NO_STRUCT_OK:
        warn.append(full)
    out.append('pub static %s: Message = Message {' % rust_name(full))
    out.append('    name: "%s",' % full[1:])
    out.append('    fields: &[')
    for (name, num, label, t, tn) in sorted(fs, key=lambda x: x[1]):
        flags = []
        json = name
        kind = None
        if gf is not None:
            kind, tag = gf[num]
            jm = re.search(r'json:"([^"]*)"', tag)
            jt = jm.group(1).split(',') if jm else [name]
            if jt[0] == '-':
                continue
            if 'inline' in jt[1:]:
                flags.append('INLINE'); json = ''
            else:
                json = jt[0] or name
                if 'omitempty' not in jt[1:]:
                    flags.append('KEEP_ZERO')
            if kind == GO_PTR:
                flags.append('KEEP_ZERO')
        if t == 'msg' and label != 3 and not msgs[tn][1]:
            # Messages are always decoded when present, never omitted.
            flags = [f for f in flags if f != 'KEEP_ZERO']
        if t == 'msg' and msgs[tn][1]:
            kf = [x for x in msgs[tn][0] if x[0] == 'key'][0]
            vf = [x for x in msgs[tn][0] if x[0] == 'value'][0]
            assert kf[3] == 'string', tn
            ty = 'Ty::Map(&%s)' % ty_of(vf[3], vf[4])
        else:
            ty = ty_of(t, tn)
            if label == 3: flags.append('REPEATED')
        fl = ' | '.join(dict.fromkeys(flags)) or '0'
        out.append('        Field::new(%d, "%s", %s, %s),' % (num, json, ty, fl))
    out.append('    ],')
    out.append('};')
    out.append('')

LABEL = sys.argv[2] if len(sys.argv) > 2 else BIN
print('//! Protobuf schema of the Kubernetes messages kube-sim decodes (%d of them).' % len(order))
print('//!')
print('//! @generated by `gen_schema.py` from the protobuf descriptors and Go struct')
print('//! tags embedded in %s: do not edit by hand. Field numbers are' % LABEL)
print('//! those of k8s.io/api and k8s.io/apimachinery `generated.proto`; json names,')
print('//! `omitempty` and pointer-ness (`KEEP_ZERO`) come from the Go types.')
print()
print('use super::schema_types::{Field, Message, Ty, INLINE, KEEP_ZERO, REPEATED};')
print()
print('/// The top-level kinds whose protobuf bodies kube-sim decodes.')
print('pub static KINDS: &[(&str, &str, &Message)] = &[')
for av, k, full in ROOTS:
    print('    ("%s", "%s", &%s),' % (av, k, rust_name(full)))
print('];')
print()
print('\n'.join(out).rstrip())
if warn:
    sys.exit('no Go struct for: ' + ', '.join(warn))
