//! ApiVersions negotiation: for each API we use, the highest version both we and the broker support.

use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

/// The version range of each API this client speaks. Fetch stops at v11, the last version without
/// tagged fields: tansu 0.6 sends NodeEndpoints (a v16 field) in v12 responses, which the
/// kafka-protocol decoder rightly rejects; v11 already has fetch sessions and rack ids. Produce
/// stops at v8, its last version without tagged fields, for the same reason. The group APIs stop where librdkafka's client stops (JoinGroup v5, SyncGroup
/// v3, Heartbeat v3, LeaveGroup v1, FindCoordinator v2): librdkafka's mock cluster advertises the
/// flexible versions above those but does not parse them correctly, and no broker needs them.
/// ListGroups and DescribeGroups stop before their flexible versions too (v3, v5).
pub const CLIENT_VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 8),
    (ApiKey::Fetch, 4, 11),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 7),
    (ApiKey::FindCoordinator, 0, 2),
    (ApiKey::JoinGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 3),
    (ApiKey::LeaveGroup, 0, 1),
    (ApiKey::SyncGroup, 0, 3),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::ListGroups, 0, 2),
    (ApiKey::DescribeGroups, 0, 4),
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::EndTxn, 0, 3),
    (ApiKey::AddOffsetsToTxn, 0, 3),
    (ApiKey::TxnOffsetCommit, 0, 3),
];

/// The versions negotiated with one broker.
#[derive(Clone, Debug, Default)]
pub struct ApiVersionTable {
    /// Indexed by API key: the negotiated version, or -1 where there is none.
    chosen: Vec<i16>,
}

impl ApiVersionTable {
    /// Intersects the broker's advertised ranges with ours.
    pub fn negotiate(resp: &ApiVersionsResponse) -> Self {
        let mut chosen = vec![-1i16; 128];
        for api in &resp.api_keys {
            let Ok(key) = ApiKey::try_from(api.api_key) else {
                continue;
            };
            if let Some(&(_, ours_min, ours_max)) = CLIENT_VERSIONS.iter().find(|e| e.0 == key) {
                let lo = ours_min.max(api.min_version);
                let hi = ours_max.min(api.max_version);
                if lo <= hi && (api.api_key as usize) < chosen.len() {
                    chosen[api.api_key as usize] = hi;
                }
            }
        }
        ApiVersionTable { chosen }
    }

    /// The negotiated version of `key`, if the broker and we share one.
    pub fn version(&self, key: ApiKey) -> Option<i16> {
        self.chosen.get(key as usize).copied().filter(|v| *v >= 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;

    fn api(key: ApiKey, min: i16, max: i16) -> ApiVersion {
        ApiVersion::default()
            .with_api_key(key as i16)
            .with_min_version(min)
            .with_max_version(max)
    }

    #[test]
    fn picks_highest_common_version() {
        let resp = ApiVersionsResponse::default().with_api_keys(vec![
            api(ApiKey::Fetch, 0, 17),
            api(ApiKey::Metadata, 0, 5),
            api(ApiKey::OffsetFetch, 8, 9),
        ]);
        let t = ApiVersionTable::negotiate(&resp);
        assert_eq!(t.version(ApiKey::Fetch), Some(11));
        assert_eq!(t.version(ApiKey::Metadata), Some(5));
        assert_eq!(t.version(ApiKey::OffsetFetch), None);
        assert_eq!(t.version(ApiKey::Produce), None);
    }
}
