"""Tiny transcripts shared by the end-to-end tests."""

HEADER = "时间,买家,发送方,客服账号,内容\n"
# b1 answered by a1 in 60 s (on time); b2 answered by a2 after 10 min (late): PDD-R3/R5 fail.
FAILING = HEADER + (
    "2026-11-22 09:00:00,b1,买家,,在吗\n"
    "2026-11-22 09:01:00,b1,客服,a1,在的\n"
    "2026-11-22 10:00:00,b2,买家,,发货了吗\n"
    "2026-11-22 10:10:00,b2,客服,a2,发了\n"
)
