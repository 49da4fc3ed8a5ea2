//! The handler: the key, then one operation of `app::smsactivate` per action, which maps
//! the protocol's ids and codes onto the same operations as the other dialects.
use super::answers::{self as wire, Wire};
use super::params::{is_rent_action, parse, Action, Params};
use super::words::{word_for, Word};
use crate::app::accounts;
use crate::app::smsactivate::{self as ops, NotBought, RentSet, SetOutcome};
use crate::app::wallet;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::KeyHash;
use crate::domain::smsactivate::Phase;
use crate::http::server::Ctx;
use crate::http::Reply;

fn reply(w: Wire) -> Reply {
    Reply::raw(200, w.content_type(), w.body())
}

fn word(w: Word, json_style: bool) -> Reply {
    reply(wire::error(&w, json_style))
}

/// `GET`/`POST /stubs/handler_api.php`.
pub async fn handle(ctx: &Ctx) -> Result<Reply, AppError> {
    let form = (ctx.method == "POST").then_some(ctx.body.as_slice());
    let params = Params::parse(&ctx.query_string, form);
    let Some(key) = params.api_key() else {
        return Ok(word(Word::NoKey, false));
    };
    let Some(hash) = KeyHash::of_api_key(key) else {
        return Ok(word(Word::BadKey, false));
    };
    let account = match accounts::authenticate(&ctx.app, &hash).await {
        Ok(account) => account,
        Err(e) if e.code == Code::Unauthorized => return Ok(word(Word::BadKey, false)),
        Err(e) => return Err(e),
    };
    let action = match parse(&params) {
        Ok(action) => action,
        Err(w) => return Ok(word(w, params.get("action").is_some_and(is_rent_action))),
    };
    let json_style = action.json_errors();
    let scoped = accounts::require_scope(&ctx.app, &hash, action.scope()).await;
    let outcome = match scoped {
        Ok(()) => run(ctx, &account, &hash, &action).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(w) => Ok(reply(w)),
        Err(e) => match word_for(e.code, json_style) {
            Some(w) => Ok(word(w, json_style)),
            None => Err(e),
        },
    }
}

async fn run(
    ctx: &Ctx,
    account: &crate::domain::ids::AccountId,
    key: &KeyHash,
    action: &Action,
) -> Result<Wire, AppError> {
    let app = &ctx.app;
    if matches!(
        action,
        Action::GetNumber { .. } | Action::GetNumberV2 { .. } | Action::GetRentNumber { .. }
    ) {
        // Money moves: refused while the account awaits the operator's approval (2405).
        crate::app::accounts::authenticate_payer(app, key).await?;
    }
    Ok(match action {
        Action::GetBalance => wire::balance(wallet::balance(app, key).await?.balance),
        Action::GetNumber {
            selection,
            max_price,
        }
        | Action::GetNumberV2 {
            selection,
            max_price,
        } => match ops::get_number(app, account, selection, *max_price).await {
            Ok(bought) if matches!(action, Action::GetNumber { .. }) => wire::number(&bought),
            Ok(bought) => wire::number_v2(&bought),
            Err(NotBought::AboveMax(min)) => wire::error(&Word::WrongMaxPrice(min), false),
            Err(NotBought::Refused(e)) => return Err(e),
        },
        Action::SetStatus { id, status } => match ops::set_status(app, key, *id, *status).await? {
            SetOutcome::Done => wire::set_status(*status),
            SetOutcome::Ended(Phase::Refunded) => wire::error(&Word::StatusCancel, false),
            SetOutcome::Ended(_) => wire::error(&Word::BadStatus, false),
        },
        Action::GetStatus { id } => {
            let (phase, latest) = ops::status(app, key, *id).await?;
            wire::status(phase, latest.as_ref())
        }
        Action::GetStatusV2 { id } => {
            let (phase, latest) = ops::status(app, key, *id).await?;
            wire::status_v2(phase, latest.as_ref())
        }
        Action::GetActiveActivations => wire::active_activations(&ops::active(app, account).await?),
        Action::GetPrices { service, country } => {
            wire::prices(&ops::prices(app, service.as_deref(), *country).await?)
        }
        Action::GetCountries => wire::countries(&ops::countries(app).await?),
        Action::GetServicesList => wire::services(&ops::services(app).await?),
        Action::GetOperators { country } => wire::operators(&ops::operators(app, *country).await?),
        Action::GetNumbersStatus { country, operator } => {
            wire::numbers_status(&ops::numbers_status(app, *country, operator.as_deref()).await?)
        }
        Action::GetRentServicesAndCountries {
            country,
            operator,
            hours,
        } => {
            let (id, operators, offers) =
                ops::rent_offers(app, *country, operator.as_deref(), *hours).await?;
            wire::rent_services_and_countries(id, &operators, &offers)
        }
        Action::GetRentNumber { selection, hours } => {
            let r = ops::get_rent_number(app, account, selection, *hours).await?;
            wire::rent_number(r.num, &r.number, r.expires_at_ms)
        }
        Action::GetRentStatus { id } => {
            let (ended, sms) = ops::rent_status(app, account, *id).await?;
            wire::rent_status(ended, &sms)
        }
        Action::SetRentStatus { id, status } => {
            match ops::set_rent_status(app, account, *id, *status).await? {
                RentSet::Finished => wire::rent_ok(),
                RentSet::CannotCancel => wire::error(&Word::CantCancel, true),
                RentSet::AlreadyEnded => wire::error(&Word::AlreadyFinish, true),
            }
        }
        Action::GetRentList => wire::rent_list(&ops::rent_list(app, account).await?),
    })
}
