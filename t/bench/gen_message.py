#!/usr/bin/env python3
"""gen_message.py - a 4 KB message that the last rules of gen_rules.py
match late (From in domain998), so every rule is evaluated."""
body = "\r\n".join("Line %03d of the weekly report, with some text to fill it." % i for i in range(50))
hdr = [
    "Return-Path: <someone@domain998.example>",
    "Received: from mx.domain998.example (mx.domain998.example [192.0.2.7])\r\n\tby mail.example.net (Postfix) with ESMTPS id 4F1234\r\n\tfor <user@example.net>; Mon, 2 Nov 2026 10:00:00 +0000 (UTC)",
    "From: Someone <someone@domain998.example>",
    "To: user@example.net",
    "Subject: Weekly report for the team",
    "Date: Mon, 2 Nov 2026 10:00:00 +0000",
    "Message-ID: <bench.1@domain998.example>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
]
msg = "\r\n".join(hdr) + "\r\n\r\n" + body + "\r\n"
import sys
sys.stdout.write(msg)
