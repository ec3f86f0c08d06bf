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
select throws_ok($$ delete from public.organisations o
                    where exists (select 1 from public.bufdir_column_configs c
                                  where c.organisation_id = o.id) $$,
  'XB006', null, 'an organisation with versions is not deleted by the cascade either');

select * from finish();
rollback;
