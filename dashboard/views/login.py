"""登录 Sign in: the way to the sign-in page (the password form itself is /signin, dashboard.web.signin)."""

from __future__ import annotations

from dashboard.components import login_form

login_form.render()
