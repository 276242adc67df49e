//! Sizes, field offsets and constant values of the C ABI, for the layout test
//! (`tests/capi_layout.rs`), which compares them with librdkafka's header.

use std::mem::{offset_of, size_of};

use super::errcodes::ERR_TABLE;
use super::types::*;

macro_rules! layout {
    ($out:ident, $t:ident { $($f:ident),* $(,)? }) => {
        $out.push((concat!(stringify!($t), ".sizeof").to_string(), size_of::<$t>()));
        $($out.push((concat!(stringify!($t), ".", stringify!($f)).to_string(), offset_of!($t, $f)));)*
    };
}

/// `("struct.sizeof", n)` and `("struct.field", offset)` for every public struct.
#[doc(hidden)]
pub fn struct_layouts() -> Vec<(String, usize)> {
    let mut v = Vec::new();
    layout!(
        v,
        rd_kafka_message_t {
            err,
            rkt,
            partition,
            payload,
            len,
            key,
            key_len,
            offset,
            _private
        }
    );
    layout!(
        v,
        rd_kafka_topic_partition_t {
            topic,
            partition,
            offset,
            metadata,
            metadata_size,
            opaque,
            err,
            _private
        }
    );
    layout!(v, rd_kafka_topic_partition_list_t { cnt, size, elems });
    layout!(v, rd_kafka_metadata_broker { id, host, port });
    layout!(
        v,
        rd_kafka_metadata_partition {
            id,
            err,
            leader,
            replica_cnt,
            replicas,
            isr_cnt,
            isrs
        }
    );
    layout!(
        v,
        rd_kafka_metadata_topic {
            topic,
            partition_cnt,
            partitions,
            err
        }
    );
    layout!(
        v,
        rd_kafka_metadata {
            broker_cnt,
            brokers,
            topic_cnt,
            topics,
            orig_broker_id,
            orig_broker_name
        }
    );
    layout!(v, rd_kafka_err_desc { code, name, desc });
    layout!(
        v,
        rd_kafka_group_member_info {
            member_id,
            client_id,
            client_host,
            member_metadata,
            member_metadata_size,
            member_assignment,
            member_assignment_size
        }
    );
    layout!(
        v,
        rd_kafka_group_info {
            broker,
            group,
            err,
            state,
            protocol_type,
            protocol,
            members,
            member_cnt
        }
    );
    layout!(v, rd_kafka_group_list { groups, group_cnt });
    layout!(v, rd_kafka_vu_t { vtype, u });
    v
}

/// Value of an `RD_KAFKA_RESP_ERR_*` name (without the prefix), if librskafka defines it.
#[doc(hidden)]
pub fn error_code(name: &str) -> Option<i32> {
    if name == "END_ALL" {
        return Some(super::errcodes::RD_KAFKA_RESP_ERR_END_ALL);
    }
    ERR_TABLE
        .iter()
        .find(|e| e.1.trim_end_matches('\0') == name)
        .map(|e| e.0)
}

/// Other enum and `#define` values, by C name.
#[doc(hidden)]
pub fn constants() -> Vec<(&'static str, i64)> {
    macro_rules! c {
        ($($n:ident),* $(,)?) => { vec![$((stringify!($n), $n as i64)),*] };
    }
    c![
        RD_KAFKA_PRODUCER,
        RD_KAFKA_CONSUMER,
        RD_KAFKA_TIMESTAMP_NOT_AVAILABLE,
        RD_KAFKA_TIMESTAMP_CREATE_TIME,
        RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME,
        RD_KAFKA_CONF_UNKNOWN,
        RD_KAFKA_CONF_INVALID,
        RD_KAFKA_CONF_OK,
        RD_KAFKA_MSG_STATUS_NOT_PERSISTED,
        RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED,
        RD_KAFKA_MSG_STATUS_PERSISTED,
        RD_KAFKA_VTYPE_END,
        RD_KAFKA_VTYPE_TOPIC,
        RD_KAFKA_VTYPE_RKT,
        RD_KAFKA_VTYPE_PARTITION,
        RD_KAFKA_VTYPE_VALUE,
        RD_KAFKA_VTYPE_KEY,
        RD_KAFKA_VTYPE_OPAQUE,
        RD_KAFKA_VTYPE_MSGFLAGS,
        RD_KAFKA_VTYPE_TIMESTAMP,
        RD_KAFKA_VTYPE_HEADER,
        RD_KAFKA_VTYPE_HEADERS,
        RD_KAFKA_EVENT_NONE,
        RD_KAFKA_EVENT_DR,
        RD_KAFKA_EVENT_FETCH,
        RD_KAFKA_EVENT_LOG,
        RD_KAFKA_EVENT_ERROR,
        RD_KAFKA_EVENT_REBALANCE,
        RD_KAFKA_EVENT_OFFSET_COMMIT,
        RD_KAFKA_EVENT_STATS,
        RD_KAFKA_EVENT_CREATETOPICS_RESULT,
        RD_KAFKA_EVENT_DELETETOPICS_RESULT,
        RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT,
        RD_KAFKA_EVENT_ALTERCONFIGS_RESULT,
        RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
        RD_KAFKA_EVENT_DELETERECORDS_RESULT,
        RD_KAFKA_EVENT_DELETEGROUPS_RESULT,
        RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT,
        RD_KAFKA_EVENT_OAUTHBEARER_TOKEN_REFRESH,
        RD_KAFKA_EVENT_BACKGROUND,
        RD_KAFKA_EVENT_CREATEACLS_RESULT,
        RD_KAFKA_EVENT_DESCRIBEACLS_RESULT,
        RD_KAFKA_EVENT_DELETEACLS_RESULT,
        RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
        RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
        RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
        RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
        RD_KAFKA_PARTITION_UA,
        RD_KAFKA_OFFSET_BEGINNING,
        RD_KAFKA_OFFSET_END,
        RD_KAFKA_OFFSET_STORED,
        RD_KAFKA_OFFSET_INVALID,
        RD_KAFKA_OFFSET_TAIL_BASE,
        RD_KAFKA_MSG_F_FREE,
        RD_KAFKA_MSG_F_COPY,
        RD_KAFKA_MSG_F_BLOCK,
        RD_KAFKA_MSG_F_PARTITION,
        RD_KAFKA_PURGE_F_QUEUE,
        RD_KAFKA_PURGE_F_INFLIGHT,
        RD_KAFKA_PURGE_F_NON_BLOCKING,
        RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE,
        RD_KAFKA_RESP_ERR_GROUP_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_GROUP_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR_FOR_GROUP,
    ]
}
