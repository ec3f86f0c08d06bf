-- Column configuration versions are never deleted or truncated, whoever asks.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select throws_ok($$ delete from public.bufdir_column_configs $$,
  'XB006', null, 'postgres cannot delete a version');
set local role service_role;
select throws_ok($$ delete from public.bufdir_column_configs $$,
  'XB006', null, 'nor can service_role');
reset role;
select throws_ok($$ truncate public.bufdir_column_configs $$,
  'XB006', null, 'nor truncate them');
-- An organisation of its own, with a version and no export (an export would
-- refuse the delete first, by its foreign key), saved inactive: an activation
-- would put the organisation on the chain, whose head refuses it the same way.
insert into public.organisations (id, slug, name)
values ('a1300000-0000-4000-8000-000000000013', 'kept-configs', 'Kept configurations');
insert into public.bufdir_column_configs (organisation_id, config, is_active)
select 'a1300000-0000-4000-8000-000000000013', c.config, false
from public.bufdir_column_configs c order by c.created_at limit 1;
select throws_ok($$ delete from public.organisations
                    where id = 'a1300000-0000-4000-8000-000000000013' $$,
  'XB006', null, 'an organisation with versions is not deleted by the cascade either');

select * from finish();
rollback;
