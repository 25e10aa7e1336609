#!/usr/bin/env python3
"""Builds fixture emails: a supplier's mail, then forwarded the way a real
mail client forwards it.

Used to write fixtures/emails/<supplier>/*.eml once; the .eml files are
committed and reviewed like any other test data (the generator only saves
typing the MIME boilerplate). Forward styles follow what each client really
writes:

  gmail        "---------- Forwarded message ---------" block, text+html,
               html inside <div class="gmail_quote">
  outlook      "________________________________" then From:/Sent:/To:/
               Subject: lines (divRplyFwdMsg in html)
  outlook_de   the same with Von:/Gesendet:/An:/Betreff:
  apple        "Begin forwarded message:" with From:/Subject:/Date:/To:,
               quoted text/plain
  thunderbird  "-------- Forwarded Message --------" with tab-aligned
               Subject:/Date:/From:/To:, html as a moz-forward-container table
  yahoo        "----- Forwarded Message -----" with From:/To:/Sent:/Subject:
  rfc822       the original attached as message/rfc822 (Thunderbird's
               "forward as attachment", Outlook's "forward as attachment")
  none         the supplier's mail as delivered to the buyer account
"""
import base64
import email.utils
import hashlib
import json
import os
import html as htmlmod
import quopri
import re

SELLER = 'Dana Seller <dana.seller@example.net>'
BUYER = 'Dana Buyer Account <buyer.account@example.net>'
TRACKMAIL = 't-aaaaaaaaaaaaaaaaaaaaaaaaaa@localhost'


def qp(text):
    return quopri.encodestring(text.encode('utf-8')).decode('ascii')


def b64(text):
    raw = base64.encodebytes(text.encode('utf-8')).decode('ascii')
    return raw


def html_to_plain(h):
    t = re.sub(r'(?is)<(style|head|script).*?</\1>', '', h)
    t = re.sub(r'(?i)<br\s*/?>|</p>|</tr>|</h[1-6]>|</div>', '\n', t)
    t = re.sub(r'<[^>]+>', '', t)
    t = htmlmod.unescape(t)
    t = re.sub(r'[ \t]+', ' ', t)
    t = re.sub(r'\n\s*\n+', '\n\n', t)
    return t.strip() + '\n'


class Mail:
    """The supplier's original mail."""

    def __init__(self, from_, subject, html=None, text=None,
                 date='Tue, 03 Nov 2026 14:05:09 +0000', msgid=None,
                 to=BUYER, encoding='quoted-printable', charset='utf-8'):
        self.from_ = from_
        self.subject = subject
        self.html = html
        self.text = text if text is not None else (
            html_to_plain(html) if html else '')
        self.date = date
        self.msgid = msgid or _msgid(from_ + subject, 'mail.example')
        self.to = to
        self.encoding = encoding
        self.charset = charset

    def encoded_subject(self):
        try:
            self.subject.encode('ascii')
            return self.subject
        except UnicodeEncodeError:
            return '=?UTF-8?B?%s?=' % base64.b64encode(
                self.subject.encode('utf-8')).decode('ascii')

    def body_part(self, content_type, text):
        if self.encoding == 'base64':
            data, cte = b64(text), 'base64'
        elif self.encoding == 'quoted-printable':
            data, cte = qp(text), 'quoted-printable'
        else:
            data, cte = text, '8bit'
        return ('Content-Type: %s; charset="%s"\nContent-Transfer-Encoding:'
                ' %s\n\n%s' % (content_type, self.charset, cte, data))

    def mime_body(self, boundary='==_trackmail_fixture_alt'):
        """Headers for the body (Content-Type ...) and the body."""
        if self.html and self.text:
            return ('MIME-Version: 1.0\nContent-Type: multipart/alternative;'
                    ' boundary="%s"\n\n--%s\n%s\n--%s\n%s\n--%s--\n' % (
                        boundary, boundary,
                        self.body_part('text/plain', self.text), boundary,
                        self.body_part('text/html', self.html), boundary))
        if self.html:
            return 'MIME-Version: 1.0\n' + self.body_part('text/html',
                                                         self.html)
        return 'MIME-Version: 1.0\n' + self.body_part('text/plain', self.text)

    def raw(self, to=None):
        return ('Return-Path: <bounce@mail.example>\nFrom: %s\nTo: %s\n'
                'Subject: %s\nDate: %s\nMessage-ID: %s\n%s' % (
                    self.from_, to or self.to, self.encoded_subject(),
                    self.date, self.msgid, self.mime_body()))


def _msgid(seed, domain):
    """A Message-ID derived from the mail itself: re-running a fixture
    script rewrites identical files."""
    return '<%s@%s>' % (hashlib.sha256(seed.encode('utf-8')).hexdigest()[:24],
                        domain)


def _outer(subject, body_headers_and_body, date, to=TRACKMAIL,
           from_=SELLER, extra=''):
    return ('From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\n%s%s'
            % (from_, to, subject, date,
               _msgid(subject + body_headers_and_body, 'fwd.example'), extra,
               body_headers_and_body))


def _alt(text, html, boundary='==_trackmail_fixture_fwd'):
    return ('MIME-Version: 1.0\nContent-Type: multipart/alternative; '
            'boundary="%s"\n\n--%s\nContent-Type: text/plain; '
            'charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            '%s\n--%s\nContent-Type: text/html; charset="UTF-8"\n'
            'Content-Transfer-Encoding: quoted-printable\n\n%s\n--%s--\n' % (
                boundary, boundary, qp(text), boundary, qp(html), boundary))


def _html_of(m):
    if m.html:
        body = re.sub(r'(?is)^.*<body[^>]*>|</body>.*$', '', m.html)
        return body
    return '<pre>%s</pre>' % htmlmod.escape(m.text)


def forward(m, style, note='FYI', date='Tue, 03 Nov 2026 15:11:40 +0000'):
    name, addr = email.utils.parseaddr(m.from_)
    esc = htmlmod.escape
    if style == 'none':
        return m.raw(to=TRACKMAIL)
    if style == 'gmail':
        head = ('---------- Forwarded message ---------\nFrom: %s <%s>\n'
                'Date: Tue, Nov 3, 2026 at 2:05 PM\nSubject: %s\nTo: <%s>\n'
                % (name, addr, m.subject, 'buyer.account@example.net'))
        text = '%s\n\n%s\n%s' % (note, head, m.text)
        html = ('<div dir="ltr">%s<br><br><div class="gmail_quote"><div '
                'dir="ltr" class="gmail_attr">---------- Forwarded message '
                '---------<br>From: <strong class="gmail_sendername" '
                'dir="auto">%s</strong> <span dir="auto">&lt;%s&gt;</span>'
                '<br>Date: Tue, Nov 3, 2026 at 2:05 PM<br>Subject: %s<br>To: '
                '&lt;buyer.account@example.net&gt;<br></div><br><br>%s</div>'
                '</div>' % (esc(note), esc(name), esc(addr), esc(m.subject),
                            _html_of(m)))
        return _outer('Fwd: ' + m.encoded_subject(), _alt(text, html), date)
    if style in ('outlook', 'outlook_de'):
        labels = (('From', 'Sent', 'To', 'Subject') if style == 'outlook'
                  else ('Von', 'Gesendet', 'An', 'Betreff'))
        sent = ('Tuesday, November 3, 2026 2:05 PM' if style == 'outlook'
                else 'Dienstag, 3. November 2026 14:05')
        head = ('________________________________\n%s: %s <%s>\n%s: %s\n'
                '%s: buyer.account@example.net\n%s: %s\n' % (
                    labels[0], name, addr, labels[1], sent, labels[2],
                    labels[3], m.subject))
        text = '%s\n\n%s\n%s' % (note, head, m.text)
        html = ('<div>%s</div><hr style="display:inline-block;width:98%%">'
                '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, '
                'sans-serif" style="font-size:11pt"><b>%s:</b> %s &lt;%s&gt;'
                '<br><b>%s:</b> %s<br><b>%s:</b> buyer.account@example.net'
                '<br><b>%s:</b> %s</font><div>&nbsp;</div></div>%s' % (
                    esc(note), labels[0], esc(name), esc(addr), labels[1],
                    sent, labels[2], labels[3], esc(m.subject), _html_of(m)))
        prefix = 'FW: ' if style == 'outlook' else 'WG: '
        return _outer(prefix + m.encoded_subject(), _alt(text, html), date)
    if style == 'apple':
        quoted = '\n'.join('> ' + l if l else '>' for l in (
            'Begin forwarded message:\n\nFrom: %s <%s>\nSubject: %s\n'
            'Date: November 3, 2026 at 2:05:09 PM GMT\nTo: '
            'buyer.account@example.net\n\n%s' % (name, addr, m.subject,
                                                 m.text)).split('\n'))
        text = '%s\n\n%s\n' % (note, quoted)
        return _outer('Fwd: ' + m.encoded_subject(),
                      'MIME-Version: 1.0 (Mac OS X Mail 16.0)\n'
                      'Content-Type: text/plain; charset=utf-8\n'
                      'Content-Transfer-Encoding: quoted-printable\n\n' +
                      qp(text), date)
    if style == 'thunderbird':
        head = ('-------- Forwarded Message --------\nSubject: \t%s\nDate: '
                '\t%s\nFrom: \t%s <%s>\nTo: \tbuyer.account@example.net\n' % (
                    m.subject, m.date, name, addr))
        text = '%s\n\n%s\n\n%s' % (note, head, m.text)
        html = ('<p>%s</p><div class="moz-forward-container"><br><br>'
                '-------- Forwarded Message --------<table class="moz-email-'
                'headers-table" border="0" cellpadding="0" cellspacing="0">'
                '<tbody><tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">'
                'Subject: </th><td>%s</td></tr><tr><th valign="BASELINE" '
                'nowrap="nowrap" align="RIGHT">Date: </th><td>%s</td></tr><tr>'
                '<th valign="BASELINE" nowrap="nowrap" align="RIGHT">From: '
                '</th><td>%s &lt;<a class="moz-txt-link-abbreviated" '
                'href="mailto:%s">%s</a>&gt;</td></tr><tr><th valign="BASELINE"'
                ' nowrap="nowrap" align="RIGHT">To: </th><td>buyer.account@'
                'example.net</td></tr></tbody></table><br>%s</div>' % (
                    esc(note), esc(m.subject), esc(m.date), esc(name),
                    esc(addr), esc(addr), _html_of(m)))
        return _outer('Fwd: ' + m.encoded_subject(), _alt(text, html), date)
    if style == 'yahoo':
        head = ('----- Forwarded Message -----\nFrom: %s <%s>\nTo: '
                'buyer.account@example.net\nSent: Tuesday, November 3, 2026, '
                '02:05:09 PM GMT\nSubject: %s\n' % (name, addr, m.subject))
        text = '%s\n\n%s\n%s' % (note, head, m.text)
        html = ('<div class="yahoo-style-wrap">%s</div><div id="yahoo_quoted'
                '_fwd"><div style="font-family:Helvetica">----- Forwarded '
                'Message -----<br><b>From:</b> %s &lt;%s&gt;<br><b>To:</b> '
                'buyer.account@example.net<br><b>Sent:</b> Tuesday, November '
                '3, 2026, 02:05:09 PM GMT<br><b>Subject:</b> %s<br><br></div>'
                '%s</div>' % (esc(note), esc(name), esc(addr),
                              esc(m.subject), _html_of(m)))
        return _outer('Fwd: ' + m.encoded_subject(), _alt(text, html), date)
    if style == 'rfc822':
        b = '==_trackmail_fixture_mixed'
        body = ('MIME-Version: 1.0\nContent-Type: multipart/mixed; '
                'boundary="%s"\n\n--%s\nContent-Type: text/plain; '
                'charset=utf-8\n\n%s\n\n--%s\nContent-Type: message/rfc822\n'
                'Content-Disposition: attachment; filename="forwarded.eml"\n'
                '\n%s\n--%s--\n' % (b, b, note, b, m.raw(), b))
        return _outer('Fwd: ' + m.encoded_subject(), body, date)
    raise ValueError('unknown forward style ' + style)


def write(path, raw):
    with open(path, 'w', encoding='utf-8', newline='\r\n') as f:
        f.write(raw)


class Fixtures:
    """The fixtures one script writes: add() each, then write_all()."""

    def __init__(self):
        self.items = []

    def add(self, parser_id, name, mail, style, expect, modelled_on):
        self.items.append((parser_id, name, forward(mail, style), expect,
                           modelled_on))

    def write_all(self):
        """Writes fixtures/emails/<id>/<name>.eml and the expected .json
        (modelled_on first, then the expectation as written)."""
        root = os.path.join(os.path.dirname(__file__), '..', '..',
                            'fixtures', 'emails')
        for parser_id, name, raw, expect, modelled_on in self.items:
            d = os.path.join(root, parser_id)
            os.makedirs(d, exist_ok=True)
            write(os.path.join(d, name + '.eml'), raw)
            out = {'modelled_on': modelled_on}
            out.update(expect)
            with open(os.path.join(d, name + '.json'), 'w') as f:
                json.dump(out, f, indent=2, ensure_ascii=False)
                f.write('\n')
        print('%d fixtures written' % len(self.items))
