//! Calls: lists, outbound AI calls through the telephony port, provider status reports and
//! history deletion.

use super::{CallcenterService, non_empty, not_found};
use crate::call::{
    Call, CallFilter, CallProgress, CallStatus, Direction, NewCall, ProviderReport, VoipCallInput, call_status_filter,
};
use crate::error::{CallcenterError, Result};
use chrono::Utc;
use kernel::{Page, PageRequest, normalize_phone};
use management_core::{Permission, Principal};

/// The most records `/voip/calls` answers with.
const VOIP_LIST_MAX: u64 = 1000;

/// `call_<index>_<number>` as the UI builds it: the index and the number (E.164 when it is a
/// phone number, else as given).
fn ui_call_id(id: &str) -> Option<(u64, String)> {
    let (index, number) = id.strip_prefix("call_")?.split_once('_')?;
    let index: u64 = index.parse().ok().filter(|i| *i < VOIP_LIST_MAX)?;
    let number = number.trim();
    (!number.is_empty()).then(|| (index, normalize_phone(number).unwrap_or_else(|_| number.to_string())))
}

impl CallcenterService {
    pub async fn calls(&self, by: &Principal, mut filter: CallFilter, page: PageRequest) -> Result<Page<Call>> {
        by.require(Permission::CallcenterRead)?;
        filter.query = non_empty(filter.query);
        self.ports.calls.list(filter, page).await
    }

    /// A call by its id. The call-center UI also builds ids itself from `/voip/calls`
    /// (`call_<index>_<number>`): such an id names the call at that position of the default
    /// `/voip/calls` order when its number matches, else the most recent call of that number.
    pub async fn call(&self, by: &Principal, id: &str) -> Result<Call> {
        by.require(Permission::CallcenterRead)?;
        if let Some(call) = self.ports.calls.get(id).await? {
            return Ok(call);
        }
        let Some((index, number)) = ui_call_id(id) else { return Err(not_found("Call", id)) };
        let at_index = self.ports.calls.list(CallFilter::default(), PageRequest::new(index + 1, 1)).await?;
        if let Some(call) = at_index.items.into_iter().next().filter(|c| c.number == number) {
            return Ok(call);
        }
        let latest = CallFilter { number: Some(number), ..CallFilter::default() };
        let found = self.ports.calls.list(latest, PageRequest::new(1, 1)).await?;
        found.items.into_iter().next().ok_or_else(|| not_found("Call", id))
    }

    /// The VoIP view: newest first, at most 1000; a `number` that is a phone number matches
    /// exactly, anything else as a substring.
    pub async fn voip_calls(&self, by: &Principal, number: Option<String>, status: Option<&str>) -> Result<Vec<Call>> {
        by.require(Permission::CallcenterRead)?;
        let status = call_status_filter(status)?;
        let mut filter = CallFilter { status, ..CallFilter::default() };
        if let Some(n) = non_empty(number) {
            match normalize_phone(&n) {
                Ok(e164) => filter.number = Some(e164),
                Err(_) => filter.query = Some(n),
            }
        }
        Ok(self.ports.calls.list(filter, PageRequest::new(1, VOIP_LIST_MAX)).await?.items)
    }

    /// Places an outbound AI voice call: validates, refuses when telephony is not configured
    /// (nothing is stored then), records the call as `processing` for the caller with that
    /// number (created when new), and asks the provider to dial. A refused dial marks the
    /// record `failed` and is reported.
    pub async fn start_voip_call(&self, by: &Principal, input: VoipCallInput) -> Result<Call> {
        by.require(Permission::CallcenterWrite)?;
        let call = input.validate()?;
        self.ports.telephony.ensure_configured()?;
        let caller = self.ports.callers.find_or_create(&call.target_number, None).await?;
        let record = self
            .ports
            .calls
            .insert(NewCall {
                caller_id: caller.id,
                number: call.target_number.clone(),
                direction: Direction::Outbound,
                operator_name: None,
                model: Some(call.model.clone()),
                prompt: call.prompt.clone(),
                options: Some(call.options),
                ai_session: false,
            })
            .await?;
        let outcome = self.ports.telephony.place_call(&record.id, &call).await;
        let progress = CallProgress {
            provider_sid: outcome.as_ref().ok().cloned(),
            status: outcome.is_err().then_some(CallStatus::Failed),
            answered: false,
            duration_sec: None,
            recording_url: None,
            at: Utc::now(),
            analysis: None,
        };
        let updated = self.ports.calls.progress(Some(record.id.clone()), progress).await?;
        outcome?;
        Ok(updated.unwrap_or(record))
    }

    /// A status callback from the telephony provider: verified by its signature, then
    /// applied to the call it names.
    pub async fn provider_report(
        &self,
        path_and_query: &str,
        params: &[(String, String)],
        signature: &str,
        report: ProviderReport,
    ) -> Result<Call> {
        self.ports.telephony.verify_callback(path_and_query, params, signature)?;
        let progress = report.progress(Utc::now())?;
        if report.call_id.is_none() && progress.provider_sid.is_none() {
            return Err(CallcenterError::field("CallSid", "CallSid is required."));
        }
        let name = report.call_id.clone().or_else(|| progress.provider_sid.clone()).unwrap_or_default();
        self.ports.calls.progress(report.call_id, progress).await?.ok_or_else(|| not_found("Call", name))
    }

    /// Deletes every call (with its transcript) of a number; returns how many.
    pub async fn delete_history(&self, by: &Principal, number: &str) -> Result<u64> {
        by.require(Permission::CallcenterDelete)?;
        let number = normalize_phone(number).map_err(|m| CallcenterError::field("targetNumber", m))?;
        self.ports.calls.delete_by_number(&number).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::ports::{MockCallRepository, MockCallerRepository, MockTelephony};
    use crate::service::CallcenterPorts;
    use crate::service::tests::{mocks, principal};
    use std::sync::Arc;

    fn operator() -> Principal {
        principal(&[Permission::CallcenterRead, Permission::CallcenterWrite])
    }

    fn record(id: &str, status: CallStatus) -> Call {
        Call {
            id: id.into(),
            caller_id: "u_1".into(),
            number: "+998901234567".into(),
            direction: Direction::Outbound,
            status,
            started_at: Utc::now(),
            ended_at: None,
            duration_sec: None,
            operator_name: None,
            recording_url: None,
            transcript: String::new(),
            ai_summary: String::new(),
            sentiment: Default::default(),
            tags: vec![],
            topic: None,
            escalated: false,
            session_id: None,
        }
    }

    fn service(calls: MockCallRepository) -> CallcenterService {
        CallcenterService::new(CallcenterPorts { calls: Arc::new(calls), ..mocks() })
    }

    #[tokio::test]
    async fn ui_built_ids_name_the_call_at_that_position_or_the_latest_of_the_number() {
        let mut calls = MockCallRepository::new();
        calls.expect_get().returning(|_| Ok(None));
        calls.expect_list().withf(|f, p| f.number.is_none() && p.offset() == 3 && p.per_page == 1).returning(|_, p| {
            Ok(Page { items: vec![record("call_at_3", CallStatus::Completed)], total: 9, request: p })
        });
        let got = service(calls).call(&operator(), "call_3_+998901234567").await.unwrap();
        assert_eq!(got.id, "call_at_3");

        let mut calls = MockCallRepository::new();
        calls.expect_get().returning(|_| Ok(None));
        calls.expect_list().withf(|f, _| f.number.is_none()).returning(|_, p| {
            let mut other = record("call_other", CallStatus::Completed);
            other.number = "+998900000000".into();
            Ok(Page { items: vec![other], total: 9, request: p })
        });
        calls.expect_list().withf(|f, p| f.number.as_deref() == Some("+998901234567") && p.offset() == 0).returning(
            |_, p| Ok(Page { items: vec![record("call_latest", CallStatus::Missed)], total: 1, request: p }),
        );
        let got = service(calls).call(&operator(), "call_0_998901234567").await.unwrap();
        assert_eq!(got.id, "call_latest", "the position moved: the latest call of the number");
    }

    #[tokio::test]
    async fn unknown_ids_are_not_found() {
        for id in ["call_0123456789abcdef", "call_x_+998901234567", "nothing"] {
            let mut calls = MockCallRepository::new();
            calls.expect_get().returning(|_| Ok(None));
            calls.expect_list().returning(|_, p| Ok(Page::empty(p)));
            let err = service(calls).call(&operator(), id).await.unwrap_err();
            assert!(matches!(err, CallcenterError::NotFound(_)), "{id}: {err:?}");
        }
    }

    fn input() -> VoipCallInput {
        VoipCallInput { model: Some("voice".into()), target_number: Some("+998901234567".into()), ..Default::default() }
    }

    #[tokio::test]
    async fn nothing_is_stored_when_telephony_is_off() {
        let mut telephony = MockTelephony::new();
        telephony.expect_ensure_configured().returning(|| Err(CallcenterError::Unavailable("off".into())));
        let mut calls = MockCallRepository::new();
        calls.expect_insert().never();
        let svc = CallcenterService::new(CallcenterPorts {
            telephony: Arc::new(telephony),
            calls: Arc::new(calls),
            ..mocks()
        });
        assert!(matches!(svc.start_voip_call(&operator(), input()).await, Err(CallcenterError::Unavailable(_))));
    }

    #[tokio::test]
    async fn a_placed_call_keeps_the_provider_id_and_a_refused_one_fails() {
        for refused in [false, true] {
            let mut telephony = MockTelephony::new();
            telephony.expect_ensure_configured().returning(|| Ok(()));
            telephony.expect_place_call().withf(|id, call| id == "call_1" && call.model == "voice").returning(
                move |_, _| {
                    if refused { Err(CallcenterError::Unavailable("Twilio said no".into())) } else { Ok("CA1".into()) }
                },
            );
            let mut callers = MockCallerRepository::new();
            callers.expect_find_or_create().withf(|phone, _| phone == "+998901234567").returning(|phone, _| {
                Ok(Caller {
                    id: "u_1".into(),
                    full_name: phone.into(),
                    phone: Some(phone.into()),
                    email: None,
                    region: None,
                    language: None,
                    customer_id: None,
                    created_at: Utc::now(),
                })
            });
            let mut calls = MockCallRepository::new();
            calls
                .expect_insert()
                .withf(|c| c.caller_id == "u_1")
                .returning(|_| Ok(record("call_1", CallStatus::Processing)));
            calls
                .expect_progress()
                .withf(move |id, p| {
                    id.as_deref() == Some("call_1")
                        && if refused {
                            p.status == Some(CallStatus::Failed) && p.provider_sid.is_none()
                        } else {
                            p.status.is_none() && p.provider_sid.as_deref() == Some("CA1")
                        }
                })
                .times(1)
                .returning(|_, _| Ok(Some(record("call_1", CallStatus::Processing))));
            let svc = CallcenterService::new(CallcenterPorts {
                telephony: Arc::new(telephony),
                callers: Arc::new(callers),
                calls: Arc::new(calls),
                ..mocks()
            });
            let result = svc.start_voip_call(&operator(), input()).await;
            assert_eq!(result.is_err(), refused);
        }
    }

    #[tokio::test]
    async fn callbacks_with_a_bad_signature_change_nothing() {
        let mut telephony = MockTelephony::new();
        telephony.expect_verify_callback().returning(|_, _, _| Err(CallcenterError::Forbidden("bad signature".into())));
        let mut calls = MockCallRepository::new();
        calls.expect_progress().never();
        let svc = CallcenterService::new(CallcenterPorts {
            telephony: Arc::new(telephony),
            calls: Arc::new(calls),
            ..mocks()
        });
        let report =
            ProviderReport { provider_sid: Some("CA1".into()), status: Some("completed".into()), ..Default::default() };
        let err = svc.provider_report("/api/voip/twilio/status", &[], "x", report).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Forbidden(_)));
    }

    #[tokio::test]
    async fn only_deleters_delete_history_and_numbers_are_normalised() {
        let mut calls = MockCallRepository::new();
        calls.expect_delete_by_number().withf(|n| n == "+998901234567").returning(|_| Ok(3));
        let svc = CallcenterService::new(CallcenterPorts { calls: Arc::new(calls), ..mocks() });
        assert!(matches!(svc.delete_history(&operator(), "901234567").await, Err(CallcenterError::Forbidden(_))));
        let supervisor = principal(&[Permission::CallcenterRead, Permission::CallcenterDelete]);
        assert_eq!(svc.delete_history(&supervisor, "90 123 45 67").await.unwrap(), 3);
        assert!(matches!(svc.delete_history(&supervisor, "abc").await, Err(CallcenterError::Validation { .. })));
    }
}
