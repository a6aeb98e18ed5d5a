//! The shape of the schema table: a message is a sorted list of fields, a
//! field is its number, its JSON name, how its value maps to JSON, and flags.

/// How a field's protobuf value becomes JSON.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    /// `[]byte`: base64 in JSON.
    Bytes,
    I32,
    I64,
    Bool,
    Msg(&'static Message),
    /// `map<string, V>` (every Kubernetes map has string keys).
    Map(&'static Ty),
    /// `metav1.Time`: RFC 3339 seconds in UTC, `null` when zero.
    Time,
    /// `intstr.IntOrString`: a JSON number or string.
    IntOrString,
    /// `resource.Quantity`: its canonical string.
    Quantity,
    /// `metav1.FieldsV1` / `runtime.RawExtension`: JSON carried as bytes.
    RawJson,
}

/// A repeated field: a JSON array.
pub const REPEATED: u8 = 1;
/// The message's fields belong to the parent JSON object (`json:",inline"`).
pub const INLINE: u8 = 2;
/// The zero value shows in JSON. For a scalar, a zero is kept because the Go
/// field is a pointer (so it was set) or has no `omitempty` (so JSON shows
/// it); without the flag a zero scalar is dropped, as JSON would omit it. For
/// a repeated or map field (no `omitempty`), absence shows as `null`.
pub const KEEP_ZERO: u8 = 4;

#[derive(Debug)]
pub struct Field {
    pub number: u32,
    /// The JSON name; empty for inline fields.
    pub json: &'static str,
    pub ty: Ty,
    pub flags: u8,
}

impl Field {
    pub const fn new(number: u32, json: &'static str, ty: Ty, flags: u8) -> Self {
        Field {
            number,
            json,
            ty,
            flags,
        }
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[derive(Debug)]
pub struct Message {
    /// The protobuf message name, for error messages.
    pub name: &'static str,
    /// Sorted by field number.
    pub fields: &'static [Field],
}

impl Message {
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .map(|i| &self.fields[i])
    }
}
