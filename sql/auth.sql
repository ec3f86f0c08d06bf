-- Acting as a signed-in user on a direct connection, the way PostgREST does
-- for each request: the JWT claims and the role, for the current transaction.

-- name: act_as_user
select
  set_config('request.jwt.claims', %(claims)s, true),
  set_config('role', 'authenticated', true);

-- name: user_by_email
select u.id from auth.users u where lower(u.email) = lower(%(email)s);
