//! `/api/twilio/token`: a Twilio Voice SDK access token for the signed-in operator.

use crate::error::ApiResult;
use crate::extract::Auth;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/twilio/token").route(web::get().to(token)));
}

/// A Voice SDK access token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TwilioToken {
    /// HS256 JWT signed with the API key secret (`cty: twilio-fpa;v=1`) with a voice grant.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

#[utoipa::path(operation_id = "cc_twilio_token", get, path = "/api/twilio/token", tag = "callcenter", security(("bearer" = [])),
    description = "Claims: jti = <APIKeySid>-<iat>, iss = API key SID, sub = account SID, exp, grants {identity (from the operator's e-mail and id), voice {incoming {allow: true}, outgoing {application_sid}}}.",
    responses(
        (status = 200, description = "Success", body = TwilioToken),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "callcenter.write needed"),
        (status = 503, description = "Twilio is not configured; the message names the missing settings"),
    ))]
pub async fn token(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let me = state.auth.profile(&auth.0).await?;
    let issued = state.callcenter.voice_token(&auth.0, &me.email)?;
    Ok(HttpResponse::Ok().json(TwilioToken { token: issued.token, expires_in: issued.expires_in }))
}
