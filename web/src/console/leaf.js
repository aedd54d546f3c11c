// An audit entry's leaf_data is the exact byte string hashed into the log:
// a deterministically serialised sotto.audit.v1.Event (docs/adr/0002). The
// viewer shows what it decodes from those bytes, the bytes it hashed and
// proved, rather than the search's own copy of the event, so that what a
// person reads is what the proof covers. A minimal protobuf wire decoder
// for that one message: strings, varints and the two timestamps.

const fields = {
  1: ['event_id', 'string'],
  2: ['leaf_index', 'varint'],
  3: ['occur_time', 'timestamp'],
  4: ['record_time', 'timestamp'],
  5: ['actor_workload', 'string'],
  6: ['actor_subject_hash', 'string'],
  7: ['subject_hash', 'string'],
  8: ['action', 'string'],
  9: ['resource_type', 'string'],
  10: ['resource_id', 'string'],
  11: ['purpose', 'string'],
  12: ['outcome', 'varint'],
  13: ['reason', 'string'],
  14: ['trace_id', 'string'],
  15: ['hmac_key_version', 'varint'],
  16: ['caller_workload', 'string'],
};

export const outcomes = ['OUTCOME_UNSPECIFIED', 'OUTCOME_SUCCESS', 'OUTCOME_DENIED', 'OUTCOME_FAILURE'];

class Reader {
  constructor(b) {
    this.b = b;
    this.i = 0;
  }

  varint() {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.i >= this.b.length) throw new Error('truncated varint');
      const x = this.b[this.i++];
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
    }
    throw new Error('varint too long');
  }

  bytes() {
    const n = Number(this.varint());
    if (this.i + n > this.b.length) throw new Error('truncated field');
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }

  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.i += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.i += 4;
    else throw new Error(`wire type ${wire}`);
    if (this.i > this.b.length) throw new Error('truncated field');
  }
}

function timestamp(b) {
  const r = new Reader(b);
  let secs = 0n;
  let nanos = 0n;
  while (r.i < b.length) {
    const tag = Number(r.varint());
    if (tag === 8) secs = r.varint();
    else if (tag === 16) nanos = r.varint();
    else r.skip(tag & 7);
  }
  return new Date(Number(secs) * 1000 + Math.floor(Number(nanos) / 1e6)).toISOString();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// decodeEvent decodes leaf bytes into the Event's JSON-like fields; it
// throws on bytes that are not such a message.
export function decodeEvent(bytes) {
  const r = new Reader(bytes);
  const ev = {};
  while (r.i < bytes.length) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const f = fields[num];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [name, kind] = f;
    if (kind === 'varint') {
      if (wire !== 0) throw new Error(`field ${name} has wire type ${wire}`);
      const v = r.varint();
      ev[name] = name === 'outcome' ? (outcomes[Number(v)] ?? String(v)) : String(v);
    } else {
      if (wire !== 2) throw new Error(`field ${name} has wire type ${wire}`);
      const b = r.bytes();
      ev[name] = kind === 'timestamp' ? timestamp(b) : utf8.decode(b);
    }
  }
  return ev;
}
