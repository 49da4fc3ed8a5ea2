//! The WhatOTP dialect (`/v1/otp/*`, `/v1/messages/*`).
