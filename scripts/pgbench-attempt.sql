-- The three statements of POST /attempts, in one transaction, as pgbench runs them: the
-- baseline the service is measured against (docs/benchmarks.md).
\set student random(0, 9999)
\set answer random(0, 1)
BEGIN;
INSERT INTO attempt (id, student_id, topic_code, course_id, status, is_correct, error_tag_code, error_subtag,
    classifier_source, classifier_name, confidence, diagnosis, expected_answer, student_answer, trace_id, created_by,
    created_at)
VALUES (gen_random_uuid(), 'stu_' || :student, 'T-SUB-BORROW', 'crs_bench', 'CLASSIFIED', :answer = 1,
    'ARITH_SUB_BORROW_OMITTED_TENS_G3', 'SMALLER-FROM-LARGER', 'RULE', 'pgbench', 0.99,
    '{"isCorrect":false,"errorTagCode":"ARITH_SUB_BORROW_OMITTED_TENS_G3","candidates":[]}'::jsonb, '27', '33',
    md5(random()::text), 'pgbench', now());
INSERT INTO mastery (student_id, topic_code, course_id, p_known, attempts, last_at, version)
VALUES ('stu_' || :student, 'T-SUB-BORROW', 'crs_bench', 0.3, 1, now(), 1)
ON CONFLICT (student_id, topic_code, course_id) DO UPDATE
    SET p_known = excluded.p_known, attempts = mastery.attempts + 1, last_at = now(), version = mastery.version + 1;
INSERT INTO outbox (event_id, event_type, ordering_key, payload, created_at)
VALUES (gen_random_uuid(), 'attempt.created', 'stu_' || :student, '{"type":"attempt.created"}'::jsonb, now());
END;
