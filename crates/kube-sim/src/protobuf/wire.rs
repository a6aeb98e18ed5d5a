//! The protobuf wire format, just enough of it to walk a message: tags,
//! varints and length-delimited values (all Kubernetes fields are one or the
//! other), and skipping any wire type, 64- and 32-bit and deprecated groups
//! included, for fields the schema does not know.

use super::DecodeError;

/// How a field's value is laid out on the wire (the low 3 bits of a tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    StartGroup,
    EndGroup,
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64) -> Result<Self, DecodeError> {
        Ok(match bits {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            other => return Err(DecodeError::WireType(other as u8)),
        })
    }
}

/// A cursor over one message's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() >= 10 {
            Err(DecodeError::VarintTooLong)
        } else {
            Err(DecodeError::Truncated)
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub fn len_delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
        self.take(len)
    }

    /// The next field's number and wire type.
    pub fn tag(&mut self) -> Result<(u32, WireType), DecodeError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| DecodeError::FieldNumber(key >> 3))?;
        if number == 0 {
            return Err(DecodeError::FieldNumber(0));
        }
        Ok((number, WireType::from_bits(key & 7)?))
    }

    /// Skip a value of a field the schema does not know (protobuf semantics).
    pub fn skip(&mut self, number: u32, wire: WireType) -> Result<(), DecodeError> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.take(8).map(drop),
            WireType::Len => self.len_delimited().map(drop),
            WireType::Fixed32 => self.take(4).map(drop),
            WireType::StartGroup => {
                // Iterative, so nested groups in hostile input cannot overflow the stack.
                let mut open = vec![number];
                while let Some(&innermost) = open.last() {
                    match self.tag()? {
                        (n, WireType::StartGroup) => open.push(n),
                        (n, WireType::EndGroup) if n == innermost => {
                            open.pop();
                        }
                        (_, WireType::EndGroup) => {
                            return Err(DecodeError::UnbalancedGroup(innermost))
                        }
                        (n, w) => self.skip(n, w)?,
                    }
                }
                Ok(())
            }
            WireType::EndGroup => Err(DecodeError::UnbalancedGroup(number)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let mut r = Reader::new(&[0x00, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(r.varint(), Ok(0));
        assert_eq!(r.varint(), Ok(1));
        assert_eq!(r.varint(), Ok(300));
        assert_eq!(r.varint(), Ok(0xffff_ffff));
        assert!(r.is_empty());
    }

    #[test]
    fn negative_int32_is_ten_bytes() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.varint().map(|v| v as i64 as i32), Ok(-1));
    }

    #[test]
    fn truncated_and_overlong() {
        assert_eq!(Reader::new(&[0x80]).varint(), Err(DecodeError::Truncated));
        assert_eq!(
            Reader::new(&[0xff; 11]).varint(),
            Err(DecodeError::VarintTooLong)
        );
        assert_eq!(
            Reader::new(&[0x05, b'a']).len_delimited(),
            Err(DecodeError::Truncated)
        );
        let mut r = Reader::new(&[0x0d, 1, 2, 3]);
        let (n, w) = r.tag().expect("tag");
        assert_eq!(r.skip(n, w), Err(DecodeError::Truncated));
    }

    #[test]
    fn skips_every_wire_type_including_groups() {
        // field 1 varint, 2 fixed64, 3 len, 4 group{5 varint}, 6 fixed32, then 7 varint.
        let mut bytes = vec![0x08, 0x96, 0x01, 0x11];
        bytes.extend([0u8; 8]);
        bytes.extend([0x1a, 0x02, b'h', b'i', 0x23, 0x28, 0x01, 0x24, 0x35]);
        bytes.extend([0u8; 4]);
        bytes.extend([0x38, 0x2a]);
        let mut r = Reader::new(&bytes);
        for _ in 0..5 {
            let (n, w) = r.tag().expect("tag");
            r.skip(n, w).expect("skip");
        }
        assert_eq!(r.tag(), Ok((7, WireType::Varint)));
        assert_eq!(r.varint(), Ok(42));
    }

    #[test]
    fn bad_tags() {
        assert_eq!(Reader::new(&[0x00]).tag(), Err(DecodeError::FieldNumber(0)));
        assert_eq!(Reader::new(&[0x0e]).tag(), Err(DecodeError::WireType(6)));
        let mut r = Reader::new(&[0x0c]);
        let (n, w) = r.tag().expect("tag");
        assert_eq!(r.skip(n, w), Err(DecodeError::UnbalancedGroup(1)));
    }
}
