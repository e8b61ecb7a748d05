"""The users' routes: the authenticated user, and password sign-in."""

from __future__ import annotations

from api.route_table import Operation, Route
from api.users import resources as r

USER_ROUTES: tuple[Route, ...] = (
    # --- users
    Route("/api/v1/user/", r.UserResource, (
        Operation("GET", "RetrieveUser", "Retrieve the authenticated user", response=r.user_schema,
                  tag="users",
                  description="Without a token: 401, whose body also says `features: {oidc: false}` "
                              "(`arkindex login` reads it to choose password sign-in)."),
    )),
    Route("/api/v1/user/login/", r.LoginResource, (
        Operation("POST", "Login", "Sign in with an email (or username) and a password: a new API token",
                  body=r.login_body, response=r.login_answer, public=True, tag="users", errors=(429,),
                  description="A wrong email or password: 400, without saying which. Repeated failures "
                              "for an account (5) or a client address (50) within 15 minutes: 429 with "
                              "`Retry-After`. Set a password with `worker-runs users set-password NAME`."),
    )),
)
