BEGIN TRANSACTION;
CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('prepaid', 'postpaid', 'system', 'arrears')),
            owner_user_id BIGINT REFERENCES users(id),
            owner_group_id BIGINT REFERENCES user_groups(id),
            balance_cents BIGINT NOT NULL DEFAULT 0,
            credit_limit_cents BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
            created_us BIGINT NOT NULL,
            CHECK (kind <> 'prepaid' OR balance_cents >= -credit_limit_cents),
            CHECK (kind <> 'arrears' OR balance_cents <= 0)
        );
INSERT INTO "accounts" VALUES(1,'user:alice','prepaid',1,NULL,1685,0,1767225600000000);
INSERT INTO "accounts" VALUES(2,'user:bob','prepaid',2,NULL,0,0,1767225600000000);
INSERT INTO "accounts" VALUES(3,'department:Physics','postpaid',NULL,2,-15,0,1767225600000000);
INSERT INTO "accounts" VALUES(4,'user:carol','prepaid',3,NULL,0,0,1767225600000000);
INSERT INTO "accounts" VALUES(5,'project:P1','postpaid',NULL,NULL,0,0,1767225600000000);
INSERT INTO "accounts" VALUES(6,'system:adjustments','system',NULL,NULL,-1000,0,1767225600000000);
INSERT INTO "accounts" VALUES(7,'system:revenue','system',NULL,NULL,30,0,1767225600000000);
INSERT INTO "accounts" VALUES(8,'system:cashbox:k1','system',NULL,NULL,0,0,1767225600000000);
INSERT INTO "accounts" VALUES(9,'system:cash-collected','system',NULL,NULL,-200,0,1767225600000000);
INSERT INTO "accounts" VALUES(10,'system:cash-differences','system',NULL,NULL,0,0,1767225600000000);
INSERT INTO "accounts" VALUES(11,'system:vouchers','system',NULL,NULL,-500,0,1767225600000000);
CREATE TABLE admin_tokens (
            id INTEGER PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL
        );
INSERT INTO "admin_tokens" VALUES(1,'c2cd475edbc03224b52ff645768efabf6b42ca10e5cccd0ee9b8b1ef44af2843','first start',1767225600000000);
CREATE TABLE auth_failures (
            identity TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until_us BIGINT NOT NULL DEFAULT 0
        );
INSERT INTO "auth_failures" VALUES('terminal:t1',1,0);
CREATE TABLE cards (
            id INTEGER PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES users(id),
            number TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL
        );
INSERT INTO "cards" VALUES(1,1,'A11CE001','',1767225600000000);
INSERT INTO "cards" VALUES(2,3,'CA201','',1767225600000000);
CREATE TABLE cash_events (
            transaction_id BIGINT PRIMARY KEY REFERENCES transactions(id),
            recharge_id BIGINT NOT NULL REFERENCES recharges(id),
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            device_kind TEXT NOT NULL CHECK (device_kind IN ('coin', 'note')),
            value_cents BIGINT NOT NULL CHECK (value_cents > 0),
            denomination TEXT NOT NULL DEFAULT '',
            emptying_id BIGINT REFERENCES cashbox_emptyings(id)
        );
INSERT INTO "cash_events" VALUES(4,1,'k1','coin',200,'',1);
CREATE TABLE cashbox_counts (
            emptying_id BIGINT NOT NULL REFERENCES cashbox_emptyings(id),
            device_kind TEXT NOT NULL CHECK (device_kind IN ('coin', 'note')),
            value_cents BIGINT NOT NULL,
            expected_count BIGINT NOT NULL,
            counted_count BIGINT NOT NULL,
            PRIMARY KEY (emptying_id, device_kind, value_cents)
        );
INSERT INTO "cashbox_counts" VALUES(1,'coin',200,1,1);
CREATE TABLE cashbox_emptyings (
            id INTEGER PRIMARY KEY,
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            transaction_id BIGINT NOT NULL UNIQUE REFERENCES transactions(id),
            expected_cents BIGINT NOT NULL,
            counted_cents BIGINT NOT NULL,
            emptied_us BIGINT NOT NULL
        );
INSERT INTO "cashbox_emptyings" VALUES(1,'k1',5,200,200,1767225600000000);
CREATE TABLE ended_sessions (
            session_id TEXT PRIMARY KEY,
            ended_us BIGINT NOT NULL
        );
CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            transaction_id BIGINT NOT NULL REFERENCES transactions(id),
            account_id BIGINT NOT NULL REFERENCES accounts(id),
            amount_cents BIGINT NOT NULL,
            balance_after_cents BIGINT NOT NULL
        );
INSERT INTO "entries" VALUES(1,1,1,1000,1000);
INSERT INTO "entries" VALUES(2,1,6,-1000,-1000);
INSERT INTO "entries" VALUES(3,2,1,-15,985);
INSERT INTO "entries" VALUES(4,2,7,15,15);
INSERT INTO "entries" VALUES(5,3,3,-15,-15);
INSERT INTO "entries" VALUES(6,3,7,15,30);
INSERT INTO "entries" VALUES(7,4,1,200,1185);
INSERT INTO "entries" VALUES(8,4,8,-200,-200);
INSERT INTO "entries" VALUES(9,5,8,200,0);
INSERT INTO "entries" VALUES(10,5,9,-200,-200);
INSERT INTO "entries" VALUES(11,6,1,500,1685);
INSERT INTO "entries" VALUES(12,6,11,-500,-500);
CREATE TABLE group_members (
            group_id BIGINT NOT NULL REFERENCES user_groups(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            PRIMARY KEY (group_id, user_id)
        );
INSERT INTO "group_members" VALUES(1,1);
CREATE TABLE job_delegations (
            id INTEGER PRIMARY KEY,
            owner_user_id BIGINT NOT NULL REFERENCES users(id),
            delegate_user_id BIGINT REFERENCES users(id),
            delegate_group_id BIGINT REFERENCES user_groups(id),
            created_us BIGINT NOT NULL,
            CHECK ((delegate_user_id IS NULL) <> (delegate_group_id IS NULL))
        );
INSERT INTO "job_delegations" VALUES(1,1,2,NULL,1767225600000000);
CREATE TABLE prices (
            printer_group TEXT NOT NULL,
            function TEXT NOT NULL,
            color TEXT NOT NULL,
            paper_size TEXT NOT NULL,
            duplex INTEGER NOT NULL,
            price_cents_per_page BIGINT NOT NULL CHECK (price_cents_per_page >= 0),
            PRIMARY KEY (printer_group, function, color, paper_size, duplex)
        );
INSERT INTO "prices" VALUES('default','print','mono','*',0,10);
INSERT INTO "prices" VALUES('default','print','mono','*',1,0);
INSERT INTO "prices" VALUES('default','print','color','*',0,0);
INSERT INTO "prices" VALUES('default','print','color','*',1,0);
INSERT INTO "prices" VALUES('default','copy','mono','*',0,5);
INSERT INTO "prices" VALUES('default','copy','mono','*',1,0);
INSERT INTO "prices" VALUES('default','copy','color','*',0,0);
INSERT INTO "prices" VALUES('default','copy','color','*',1,0);
INSERT INTO "prices" VALUES('default','scan','mono','*',0,0);
INSERT INTO "prices" VALUES('default','scan','mono','*',1,0);
INSERT INTO "prices" VALUES('default','scan','color','*',0,0);
INSERT INTO "prices" VALUES('default','scan','color','*',1,0);
INSERT INTO "prices" VALUES('default','fax','mono','*',0,0);
INSERT INTO "prices" VALUES('default','fax','mono','*',1,0);
INSERT INTO "prices" VALUES('default','fax','color','*',0,0);
INSERT INTO "prices" VALUES('default','fax','color','*',1,0);
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            owner_user_id BIGINT REFERENCES users(id),
            submitted_by TEXT NOT NULL,
            job_name TEXT NOT NULL,
            document_format TEXT NOT NULL,
            queue TEXT NOT NULL,
            source TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            expires_us BIGINT NOT NULL,
            state TEXT NOT NULL
                CHECK (state IN ('held', 'releasing', 'printed', 'canceled', 'expired', 'aborted')),
            ipp_state INTEGER NOT NULL,
            state_reasons TEXT NOT NULL DEFAULT '',
            copies INTEGER NOT NULL DEFAULT 1,
            sides TEXT NOT NULL DEFAULT 'one-sided',
            color_mode TEXT NOT NULL DEFAULT 'auto',
            media TEXT,
            spool_id TEXT,
            size_bytes BIGINT NOT NULL DEFAULT 0,
            analysis TEXT,
            thumbnail_png BLOB,
            page_count INTEGER,
            color_pages INTEGER,
            paper_size TEXT,
            doc_copies INTEGER,
            doc_duplex INTEGER,
            doc_grayscale INTEGER,
            completed_us BIGINT
        );
INSERT INTO "print_jobs" VALUES(1,1,'alice','report.pdf','application/pdf','default','ipp',1767225600000000,2082585600000000,'held',4,'job-hold-until-specified',1,'one-sided','auto',NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE print_releases (
            id INTEGER PRIMARY KEY,
            job_id BIGINT NOT NULL REFERENCES print_jobs(id),
            release_key TEXT NOT NULL,
            user_id BIGINT NOT NULL REFERENCES users(id),
            charged_user_id BIGINT NOT NULL REFERENCES users(id),
            terminal_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('releasing', 'sent', 'printed', 'failed')),
            from_state TEXT NOT NULL,
            plan TEXT NOT NULL,
            reservation_tx BIGINT REFERENCES transactions(id),
            settle_tx BIGINT REFERENCES transactions(id),
            pages_printed BIGINT,
            pages_reported INTEGER NOT NULL DEFAULT 0,
            charged_cents BIGINT,
            message TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL,
            sent_us BIGINT,
            finished_us BIGINT
        );
CREATE TABLE printers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            address TEXT NOT NULL DEFAULT '',
            transport TEXT NOT NULL DEFAULT 'raw9100' CHECK (transport IN ('raw9100', 'lpd', 'ipp')),
            vendor_profile TEXT NOT NULL DEFAULT 'generic',
            printer_group TEXT NOT NULL DEFAULT 'default',
            location TEXT NOT NULL DEFAULT ''
        );
INSERT INTO "printers" VALUES(1,'floor-1','127.0.0.1:9','raw9100','generic','default','');
CREATE TABLE project_groups (
            project_id BIGINT NOT NULL REFERENCES projects(id),
            group_id BIGINT NOT NULL REFERENCES user_groups(id),
            PRIMARY KEY (project_id, group_id)
        );
INSERT INTO "project_groups" VALUES(1,1);
CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            all_users INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            account_id BIGINT NOT NULL REFERENCES accounts(id)
        );
INSERT INTO "projects" VALUES(1,'P1','Project one',0,1,5);
CREATE TABLE quota_rules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('everyone', 'group', 'user')),
            group_id BIGINT REFERENCES user_groups(id),
            user_id BIGINT REFERENCES users(id),
            period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
            unit TEXT NOT NULL CHECK (unit IN ('pages', 'cents')),
            color_scope TEXT NOT NULL CHECK (color_scope IN ('any', 'mono', 'color')),
            limit_value BIGINT NOT NULL CHECK (limit_value >= 0),
            action TEXT NOT NULL CHECK (action IN ('block', 'warn'))
        );
INSERT INTO "quota_rules" VALUES(1,'monthly','everyone',NULL,NULL,'month','pages','any',1000,'block');
CREATE TABLE quota_usage (
            rule_id BIGINT NOT NULL REFERENCES quota_rules(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            period_start TEXT NOT NULL,
            used BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (rule_id, user_id, period_start)
        );
INSERT INTO "quota_usage" VALUES(1,1,'2026-01-01',3);
INSERT INTO "quota_usage" VALUES(1,3,'2026-01-01',3);
CREATE TABLE recharges (
            id INTEGER PRIMARY KEY,
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            opened_us BIGINT NOT NULL,
            closed_us BIGINT
        );
INSERT INTO "recharges" VALUES(1,'k1',1,1767225600000000,1767225600000000);
CREATE TABLE roles (
            name TEXT PRIMARY KEY,
            requires_card_pin INTEGER NOT NULL DEFAULT 0,
            allowed_functions TEXT NOT NULL,
            color_allowed INTEGER NOT NULL DEFAULT 1,
            project_required INTEGER NOT NULL DEFAULT 0
        );
INSERT INTO "roles" VALUES('user',0,'print,copy,scan,fax',1,0);
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_us BIGINT);
INSERT INTO "schema_migrations" VALUES(1,1796472711976422);
INSERT INTO "schema_migrations" VALUES(2,1796472711977188);
INSERT INTO "schema_migrations" VALUES(3,1796472711977962);
CREATE TABLE terminals (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('terminal', 'kiosk')),
            printer_id BIGINT REFERENCES printers(id),
            location TEXT NOT NULL DEFAULT '',
            key_sha256 TEXT NOT NULL UNIQUE,
            active INTEGER NOT NULL DEFAULT 1,
            created_us BIGINT NOT NULL
        );
INSERT INTO "terminals" VALUES('t1','terminal',1,'','addb8021ab3c8b7ec9c6c98c6c5024375197a14ce05ddfca7688c6761b6e9978',1,1767225600000000);
INSERT INTO "terminals" VALUES('k1','kiosk',NULL,'','5017690a525f4ce11ae2640c70f923688de570b58e61459f05d22a0f64d80036',1,1767225600000000);
CREATE TABLE transactions (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            idempotency_scope TEXT,
            idempotency_key TEXT,
            request_sha256 TEXT,
            response BLOB,
            user_id BIGINT REFERENCES users(id),
            terminal_id TEXT,
            project_id BIGINT REFERENCES projects(id),
            description TEXT NOT NULL DEFAULT '',
            occurred_us BIGINT,
            recorded_us BIGINT NOT NULL,
            UNIQUE (idempotency_scope, idempotency_key)
        );
INSERT INTO "transactions" VALUES(1,'adjustment','admin','a-1','4a71a23dbb573b23518139af53533e98b95c22f079f38c87dbd03e6bcaa96d55',X'7B2262616C616E63655F63656E7473223A20313030307D',1,NULL,NULL,'opening',NULL,1767225600000000);
INSERT INTO "transactions" VALUES(2,'usage','terminal:t1','u-1','a5b29422350bbbcf350850846825c92c5b9f01a5574934566fd7bacc0622a447',X'7B226163636F756E74223A2022757365723A616C696365222C2022617272656172735F63656E7473223A20302C202262616C616E63655F63656E7473223A203938352C2022636861726765645F63656E7473223A2031352C20227072696365645F6C696E6573223A205B7B22616D6F756E745F63656E7473223A2031352C2022636F6C6F72223A20226D6F6E6F222C20226475706C6578223A2066616C73652C202266756E6374696F6E223A2022636F7079222C20227061676573223A20332C202270617065725F73697A65223A20224134222C2022756E69745F70726963655F63656E7473223A20357D5D2C202271756F74615F7761726E696E6773223A205B5D2C20227265636F726465645F7573223A20313736373232353630303030303030302C20227472616E73616374696F6E5F6964223A20327D',1,'t1',NULL,'',NULL,1767225600000000);
INSERT INTO "transactions" VALUES(3,'usage','terminal:t1','u-2','3938065fbfb7f33118663f2291a466cccb2182ed7a83aa76dd3c803afe617afa',X'7B226163636F756E74223A20226465706172746D656E743A50687973696373222C2022617272656172735F63656E7473223A20302C202262616C616E63655F63656E7473223A202D31352C2022636861726765645F63656E7473223A2031352C20227072696365645F6C696E6573223A205B7B22616D6F756E745F63656E7473223A2031352C2022636F6C6F72223A20226D6F6E6F222C20226475706C6578223A2066616C73652C202266756E6374696F6E223A2022636F7079222C20227061676573223A20332C202270617065725F73697A65223A20224134222C2022756E69745F70726963655F63656E7473223A20357D5D2C202271756F74615F7761726E696E6773223A205B5D2C20227265636F726465645F7573223A20313736373232353630303030303030302C20227472616E73616374696F6E5F6964223A20337D',3,'t1',NULL,'',NULL,1767225600000000);
INSERT INTO "transactions" VALUES(4,'cash','kiosk-cash:k1','C/0/1','1294c8ac4a118a698851ee418fc306f4e6ff2b44cd6e54fe7a06e6dc9a66f7d2',X'7B22617272656172735F63656E7473223A20302C202262616C616E63655F63656E7473223A20313138352C202263726564697465645F63656E7473223A203230302C202272656368617267655F746F74616C5F63656E7473223A203230302C20227265636F726465645F7573223A20313736373232353630303030303030302C20227472616E73616374696F6E5F6964223A20347D',1,'k1',NULL,'coin',NULL,1767225600000000);
INSERT INTO "transactions" VALUES(5,'cashbox-empty','cashbox:k1','e-1','9fbb98cc746c97a7c658fc5e45a32d7b884f642ef49a377f37cdf76c2b21547c',X'7B22636F756E7465645F63656E7473223A203230302C2022646966666572656E63655F63656E7473223A20302C2022656D70746965645F7573223A20313736373232353630303030303030302C202265787065637465645F63656E7473223A203230302C20226B696F736B5F6964223A20226B31222C20226C696E6573223A205B7B22636F756E7465645F636F756E74223A20312C20226465766963655F6B696E64223A2022636F696E222C202265787065637465645F636F756E74223A20312C202276616C75655F63656E7473223A203230307D5D2C20227472616E73616374696F6E5F6964223A20357D',NULL,'k1',NULL,'cash box emptied',NULL,1767225600000000);
INSERT INTO "transactions" VALUES(6,'voucher','voucher','1','530e439e8ff99c0d298adeb13881a627cba4be32d8263ee88285b6a695a40902',X'7B22617272656172735F63656E7473223A20302C202262616C616E63655F63656E7473223A20313638352C202262617463685F6964223A20312C202263726564697465645F63656E7473223A203530302C20227265636F726465645F7573223A20313736373232353630303030303030302C20227472616E73616374696F6E5F6964223A20367D',1,'k1',NULL,'voucher of batch 1',NULL,1767225600000000);
CREATE TABLE usage_lines (
            transaction_id BIGINT NOT NULL REFERENCES transactions(id),
            function TEXT NOT NULL,
            color TEXT NOT NULL,
            paper_size TEXT NOT NULL,
            duplex INTEGER NOT NULL,
            pages BIGINT NOT NULL CHECK (pages >= 0),
            unit_price_cents BIGINT NOT NULL,
            amount_cents BIGINT NOT NULL
        );
INSERT INTO "usage_lines" VALUES(2,'copy','mono','A4',0,3,5,15);
INSERT INTO "usage_lines" VALUES(3,'copy','mono','A4',0,3,5,15);
CREATE TABLE user_groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('group', 'department'))
        );
INSERT INTO "user_groups" VALUES(1,'staff','group');
INSERT INTO "user_groups" VALUES(2,'Physics','department');
CREATE TABLE user_roles (
            user_id BIGINT NOT NULL REFERENCES users(id),
            role_name TEXT NOT NULL REFERENCES roles(name),
            PRIMARY KEY (user_id, role_name)
        );
INSERT INTO "user_roles" VALUES(1,'user');
INSERT INTO "user_roles" VALUES(2,'user');
INSERT INTO "user_roles" VALUES(3,'user');
CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            department_id BIGINT REFERENCES user_groups(id),
            active INTEGER NOT NULL DEFAULT 1,
            billing TEXT NOT NULL DEFAULT 'prepaid' CHECK (billing IN ('prepaid', 'department')),
            password_hash TEXT,
            pin_hash TEXT,
            pin_lookup TEXT UNIQUE,
            created_us BIGINT NOT NULL
        );
INSERT INTO "users" VALUES(1,'alice','Alice Example','',NULL,1,'prepaid',NULL,'$argon2id$v=19$m=1024,t=1,p=1$/UjjYfGM/FptNVBZIlrrpw$ZuA7H0J8wwXylj4s5GYvUVNPz4xTzO5ZOeRaChgxm4k','d5bc36ecd95e0c24b8d47db7a81c27407eb4d73ca42168105f307cacd76c5ebc',1767225600000000);
INSERT INTO "users" VALUES(2,'bob','','',NULL,1,'prepaid','$argon2id$v=19$m=1024,t=1,p=1$Ng9S2UB0QUHujHqyKBEYcg$Oegt4CnDgZ9Cm2ufeLmCvDxPjRi0mQ3xwb0ZyouhPiE',NULL,NULL,1767225600000000);
INSERT INTO "users" VALUES(3,'carol','','',2,1,'department',NULL,NULL,NULL,1767225600000000);
CREATE TABLE voucher_batches (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL DEFAULT '',
            prefix TEXT NOT NULL DEFAULT '',
            value_cents BIGINT NOT NULL CHECK (value_cents > 0),
            voucher_count INTEGER NOT NULL,
            created_us BIGINT NOT NULL,
            expires_us BIGINT NOT NULL
        );
INSERT INTO "voucher_batches" VALUES(1,'legacy','',500,2,1767225600000000,2082585600000000);
CREATE TABLE vouchers (
            id INTEGER PRIMARY KEY,
            batch_id BIGINT NOT NULL REFERENCES voucher_batches(id),
            lookup_hmac TEXT NOT NULL UNIQUE,
            sealed_code BLOB NOT NULL,
            redeemed_us BIGINT,
            redeemed_by BIGINT REFERENCES users(id),
            transaction_id BIGINT REFERENCES transactions(id)
        );
INSERT INTO "vouchers" VALUES(1,1,'83ca36b8ac8e580b8896b23024a2a4a3894a797b93c1e1054770518dd91a4a8e',X'E59D60DD9FA1825CB9274DDCD9E216E452D10BDE5C1ACB66912EFEAE92612C1DF390C1B36242082D6A40',1767225600000000,1,6);
INSERT INTO "vouchers" VALUES(2,1,'f4c977c0e3f0e9685df17ce2603d74996952754b6f9e9f5b42d3aab43969a537',X'EE3938B608D87922689E26218B5FDB803C6D10462C6AAD2CF4B69C2BCE84191730B817B087F6B5353C8B',NULL,NULL,NULL);
CREATE INDEX group_members_user ON group_members (user_id);
CREATE INDEX cards_user ON cards (user_id);
CREATE INDEX accounts_owner_user ON accounts (owner_user_id);
CREATE INDEX entries_account ON entries (account_id, id);
CREATE INDEX entries_transaction ON entries (transaction_id);
CREATE INDEX usage_lines_transaction ON usage_lines (transaction_id);
CREATE INDEX cash_events_recharge ON cash_events (recharge_id, transaction_id);
CREATE INDEX cash_events_kiosk ON cash_events (kiosk_id, emptying_id);
CREATE INDEX vouchers_batch ON vouchers (batch_id, id);
CREATE INDEX print_jobs_owner ON print_jobs (owner_user_id, state, id);
CREATE INDEX print_jobs_state ON print_jobs (state, expires_us);
CREATE INDEX print_releases_job ON print_releases (job_id, release_key);
CREATE INDEX print_releases_state ON print_releases (state);
CREATE UNIQUE INDEX job_delegations_user ON job_delegations (owner_user_id, delegate_user_id)
            WHERE delegate_user_id IS NOT NULL;
CREATE UNIQUE INDEX job_delegations_group ON job_delegations (owner_user_id, delegate_group_id)
            WHERE delegate_group_id IS NOT NULL;
CREATE INDEX job_delegations_delegate ON job_delegations (delegate_user_id);
COMMIT;
