//! `rd_kafka_list_groups`: the consumer groups of the cluster with their members, laid out as
//! librdkafka's `struct rd_kafka_group_list`, and `rd_kafka_group_list_destroy`.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

use super::ctypes::*;
use super::errcodes::*;
use super::handle::{handle, timeout_of};
use super::types::*;
use crate::metadata::GroupInfo;

/// A group list and the memory its pointers refer to (`list` first: the C pointer is its
/// address). The vectors' heap buffers do not move when the struct does.
#[repr(C)]
struct OwnedGroupList {
    list: rd_kafka_group_list,
    groups: Vec<rd_kafka_group_info>,
    members: Vec<Vec<rd_kafka_group_member_info>>,
    strings: Vec<CString>,
    blobs: Vec<Vec<u8>>,
}

impl OwnedGroupList {
    fn new(groups: &[GroupInfo]) -> Box<Self> {
        let mut o = Box::new(OwnedGroupList {
            list: rd_kafka_group_list {
                groups: std::ptr::null_mut(),
                group_cnt: 0,
            },
            groups: Vec::with_capacity(groups.len()),
            members: Vec::with_capacity(groups.len()),
            strings: Vec::new(),
            blobs: Vec::new(),
        });
        for g in groups {
            let mut members = Vec::with_capacity(g.members.len());
            for m in &g.members {
                let (member_metadata, member_metadata_size) = o.blob(&m.metadata);
                let (member_assignment, member_assignment_size) = o.blob(&m.assignment);
                members.push(rd_kafka_group_member_info {
                    member_id: o.keep(&m.member_id),
                    client_id: o.keep(&m.client_id),
                    client_host: o.keep(&m.client_host),
                    member_metadata,
                    member_metadata_size,
                    member_assignment,
                    member_assignment_size,
                });
            }
            o.members.push(members);
            let members = o.members.last_mut().map_or(std::ptr::null_mut(), |v| {
                if v.is_empty() {
                    std::ptr::null_mut()
                } else {
                    v.as_mut_ptr()
                }
            });
            let info = rd_kafka_group_info {
                broker: rd_kafka_metadata_broker {
                    id: g.broker.id,
                    host: o.keep(&g.broker.host),
                    port: g.broker.port,
                },
                group: o.keep(&g.name),
                err: g.error.0,
                state: o.keep(&g.state),
                protocol_type: o.keep(&g.protocol_type),
                protocol: o.keep(&g.protocol),
                members,
                member_cnt: g.members.len() as c_int,
            };
            o.groups.push(info);
        }
        o.list.group_cnt = o.groups.len() as c_int;
        o.list.groups = o.groups.as_mut_ptr();
        o
    }

    /// Keeps a copy of `s` alive with the list and returns its address.
    fn keep(&mut self, s: &str) -> *mut c_char {
        self.strings
            .push(CString::new(s.replace('\0', "")).unwrap_or_default());
        self.strings
            .last()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char)
    }

    /// Keeps a copy of `b` alive with the list: (address, size); NULL and 0 when empty, as
    /// librdkafka.
    fn blob(&mut self, b: &[u8]) -> (*mut c_void, c_int) {
        if b.is_empty() {
            return (std::ptr::null_mut(), 0);
        }
        self.blobs.push(b.to_vec());
        let v = self.blobs.last_mut().expect("just pushed");
        (v.as_mut_ptr().cast(), v.len() as c_int)
    }
}

/// The consumer groups of the cluster (`group`, or all when NULL) with their members: ListGroups
/// to every broker, DescribeGroups for the groups found. On success, or `_PARTIAL` when some
/// brokers did not answer within `timeout_ms` but groups were found, `*grplistp` is set and
/// freed by the caller with `rd_kafka_group_list_destroy`; other errors (`_TIMED_OUT`,
/// `_TRANSPORT`, `_UNSUPPORTED_FEATURE`, a broker's error) leave it untouched.
///
/// # Safety
/// `rk` is NULL or a live handle; `group` NULL or a NUL-terminated string; `grplistp` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_list_groups(
    rk: *mut rd_kafka_t,
    group: *const c_char,
    grplistp: *mut *const rd_kafka_group_list,
    timeout_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__FAIL, {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        if grplistp.is_null() {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        }
        // SAFETY: per the contract.
        let group = unsafe { super::cstr(group) };
        let timeout = timeout_of(timeout_ms);
        let result = match (h.consumer(), h.producer()) {
            (Some(c), _) => c.list_groups_raw(group, timeout),
            (None, Some(p)) => p.list_groups_raw(group, timeout),
            (None, None) => return RD_KAFKA_RESP_ERR__INVALID_ARG,
        };
        let (err, groups) = match result {
            Ok(r) => r,
            Err(e) => return e.code.0,
        };
        if err.0 == 0 || err.0 == RD_KAFKA_RESP_ERR__PARTIAL {
            let list = Box::into_raw(OwnedGroupList::new(&groups));
            // SAFETY: checked non-NULL; `list` is the first field of the box.
            unsafe { *grplistp = list.cast() };
        }
        err.0
    })
}

/// Frees a list from `rd_kafka_list_groups`. NULL is ignored.
///
/// # Safety
/// `grplist` is NULL or from `rd_kafka_list_groups`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_group_list_destroy(grplist: *const rd_kafka_group_list) {
    ffi_guard!((), {
        if !grplist.is_null() {
            // SAFETY: `list` is the first field of the boxed OwnedGroupList.
            drop(unsafe { Box::from_raw(grplist as *mut OwnedGroupList) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{GroupMemberInfo, MetadataBroker};
    use std::ffi::CStr;

    #[test]
    fn lays_out_groups_and_members_like_librdkafka() {
        let g = GroupInfo {
            broker: MetadataBroker {
                id: 2,
                host: "b2".into(),
                port: 9092,
            },
            name: "g".into(),
            state: "Stable".into(),
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: vec![GroupMemberInfo {
                member_id: "m-1".into(),
                assignment: vec![0, 1, 2],
                ..Default::default()
            }],
            ..Default::default()
        };
        let list = Box::into_raw(OwnedGroupList::new(&[g, GroupInfo::default()]));
        // SAFETY: `list` points to the boxed list until destroyed below.
        unsafe {
            let l = &*list.cast::<rd_kafka_group_list>();
            assert_eq!(l.group_cnt, 2);
            let gi = &*l.groups;
            assert_eq!(CStr::from_ptr(gi.group).to_str(), Ok("g"));
            assert_eq!(CStr::from_ptr(gi.broker.host).to_str(), Ok("b2"));
            assert_eq!((gi.broker.id, gi.broker.port, gi.member_cnt), (2, 9092, 1));
            let m = &*gi.members;
            assert_eq!(CStr::from_ptr(m.member_id).to_str(), Ok("m-1"));
            assert!(m.member_metadata.is_null() && m.member_metadata_size == 0);
            assert_eq!(m.member_assignment_size, 3);
            assert_eq!(*m.member_assignment.cast::<u8>().add(2), 2);
            assert!((*l.groups.add(1)).members.is_null());
            rd_kafka_group_list_destroy(list.cast());
        }
    }
}
