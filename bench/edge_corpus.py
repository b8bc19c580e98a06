#!/usr/bin/python3
"""edge_corpus.py - write three mbox files of generated mail for comparing
vigil's reading of text with SpamAssassin's (bench/sa_compare.py):

  charsets.mbox  78 messages: spam-like text in 13 charsets (GB2312, GBK,
                 Big5, Shift_JIS, ISO-2022-JP, EUC-JP, EUC-KR, KOI8-R,
                 windows-1251, ISO-8859-2, UTF-8, ISO-8859-15, undeclared
                 8-bit), base64 / 8bit / quoted-printable, plain and
                 multipart/alternative, RFC 2047 and raw 8-bit Subjects
  encodings.mbox 33 messages: UTF-16 with and without byte order mark,
                 UTF-7, ISO-2022-KR, HZ, GB18030, mislabelled charsets,
                 split encoded words, HTML entities, noncharacters, ...
  mime.mbox      25 messages: MIME structure edge cases (no close
                 delimiter, a nested multipart reusing its parent's
                 boundary, preamble, parts without headers, lines over
                 2048 bytes, bad base64, digest, empty multipart, ...)

usage: edge_corpus.py DIR   (DIR is created; the messages are the same on
every run, so SpamAssassin's results stay cached by sa_compare.py)
"""
import base64, email.header, os, quopri, sys

TEXTS = {
 'gb2312': "尊敬的客户您好！我公司可以代开各种发票，税点优惠，欢迎来电咨询。联系电话：13800138000 免费试用 http://www.example.cn/fapiao 点击这里",
 'gbk': "您好，本公司长期提供正规发票，增值税发票，点数优惠。请联系王先生 手机 13912345678 网址 www.fapiao-example.com",
 'big5': "親愛的朋友，您好！免費試用最新產品，立即點擊 http://tw.example.com/free 獲得優惠，限時特價！",
 'shift_jis': "こんにちは。出会い系サイトの無料登録はこちら http://deai.example.jp/ 今すぐクリック！お得な情報満載です。",
 'iso-2022-jp': "お世話になっております。未承諾広告※ 無料で稼げる副業のご案内です http://fukugyo.example.jp/ 登録は簡単です。",
 'euc-jp': "ご案内 格安ソフト販売中 http://soft.example.jp/ 在庫限り 今すぐ注文",
 'euc-kr': "(광고) 안녕하세요 대출 상담 무료 http://loan.example.kr/ 지금 바로 클릭하세요 수신거부",
 'koi8-r': "Здравствуйте! Предлагаем рассылку по базам e-mail адресов. Недорого! http://spam.example.ru/ Звоните.",
 'windows-1251': "Уважаемые господа! Семинар по налогам, скидки 20%. Подробности на сайте http://seminar.example.ru/",
 'iso-8859-2': "Dzień dobry, oferujemy tanie kredyty bez zaświadczeń. Zadzwoń już dziś! http://kredyt.example.pl/",
 'utf-8': "Grüße! Ünïcödé spam with emoji 😀 and CJK 中文 mixed http://mix.example.com/ für Sie",
 'iso-8859-15': "Offre spéciale: économisez 50 € sur votre commande! http://promo.example.fr/ Dépêchez-vous",
 'us-ascii': "Gr\u00fc\u00dfe undeclared 8-bit in ascii part http://ascii.example.com/ caf\u00e9",
}


def charsets(path):
    out = open(path, 'wb')
    n = 0
    def hdrs(cs, t, n, variant):
        subj = email.header.Header(t[:20], cs if variant < 3 else 'utf-8').encode()
        if variant == 4:  # raw 8-bit subject
            subj = None
        h = []
        h.append(b'From sender@example.com Mon Nov 23 10:00:00 2026')
        h.append(('Received: from mail.example.com (mail.example.com [192.0.2.%d]) by mx.example.net with ESMTP id A%d; Mon, 23 Nov 2026 10:00:00 +0000' % (n % 250 + 1, n)).encode())
        h.append(('From: %s <user%d@example.com>' % (email.header.Header(t[:6], cs).encode(), n)).encode())
        h.append(('To: victim%d@example.net' % n).encode())
        h.append(b'Subject: ' + (subj.encode() if subj else t[:20].encode(cs, 'replace')))
        h.append(('Date: Mon, 23 Nov 2026 10:%02d:00 +0000' % (n % 60)).encode())
        h.append(('Message-ID: <gen%d@example.com>' % n).encode())
        h.append(b'MIME-Version: 1.0')
        return h
    def body_part(cs, text, cte, sub='plain'):
        raw = text.encode(cs, 'replace')
        if cte == 'base64':
            enc = base64.encodebytes(raw)
        elif cte == 'quoted-printable':
            enc = quopri.encodestring(raw)
        else:
            enc = raw
        return [('Content-Type: text/%s; charset="%s"' % (sub, cs)).encode(), ('Content-Transfer-Encoding: %s' % cte).encode(), b''] + enc.rstrip(b'\n').split(b'\n')
    for cs, t in TEXTS.items():
        for variant in range(6):
            h = hdrs(cs, t, n, variant)
            text = t + "\n\n" + t[:40] + "\n"
            cte = ['base64', '8bit', 'quoted-printable'][variant % 3]
            if cs == 'iso-2022-jp' and cte == '8bit': cte = '7bit'
            if variant in (2, 5):
                html = "<html><body><p><font color=red>%s</font></p><a href='http://x.example/%d'>click</a><br>%s</body></html>" % (t, n, t[:30])
                lines = h + [b'Content-Type: multipart/alternative; boundary="BND"', b'', b'--BND'] + body_part(cs, text, cte) + [b'--BND'] + body_part(cs, html, cte, 'html') + [b'--BND--']
            else:
                lines = h + body_part(cs, text, cte)
            out.write(b'\n'.join(l if not l.startswith(b'From ') or i == 0 else b'>' + l for i, l in enumerate(lines)) + b'\n\n')
            n += 1
    out.close()
    return n


def encodings(path):
    def hdr(n, extra=b''):
        return (b'From sender@example.com Mon Nov 23 10:00:00 2026\n'
                b'Received: from mail.example.com (mail.example.com [192.0.2.9]) by mx.example.net with ESMTP id B%d; Mon, 23 Nov 2026 10:00:00 +0000\n' % n +
                b'From: Sender <s%d@example.com>\nTo: r@example.net\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <e%d@example.com>\nMIME-Version: 1.0\n' % (n, n) + extra)
    T = "Special offer: cheap meds, buy now! Limited time. Click http://pills.example.com/ today."
    C = "免费试用最新产品，立即点击获得优惠，限时特价！"
    cases = []
    # utf-16 parts
    cases.append(b'Subject: utf16\nContent-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n' + base64.encodebytes((T).encode('utf-16')))
    cases.append(b'Subject: utf16le\nContent-Type: text/plain; charset=utf-16le\nContent-Transfer-Encoding: base64\n\n' + base64.encodebytes((T).encode('utf-16le')))
    cases.append(b'Subject: utf16be no bom\nContent-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n' + base64.encodebytes((T).encode('utf-16be')))
    cases.append(b'Subject: utf7\nContent-Type: text/plain; charset=utf-7\n\n' + (C + " " + T).encode('utf-7') + b'\n')
    cases.append(b'Subject: iso-2022-kr\nContent-Type: text/plain; charset=iso-2022-kr\n\n' + "안녕하세요 대출 상담 무료".encode('iso-2022-kr') + b'\n')
    cases.append(b'Subject: hz\nContent-Type: text/plain; charset=hz-gb-2312\n\n' + C.encode('hz') + b'\n')
    cases.append(b'Subject: gb18030\nContent-Type: text/plain; charset=gb18030\nContent-Transfer-Encoding: 8bit\n\n' + (C + " \u20ac \U0001F600").encode('gb18030') + b'\n')
    cases.append(b'Subject: gbk as gb2312\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: 8bit\n\n' + ("您好 " + C + " 镕").encode('gbk') + b'\n')
    cases.append(b'Subject: cp932 as sjis\nContent-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: 8bit\n\n' + "①無料登録はこちら ㈱".encode('cp932') + b'\n')
    cases.append(b'Subject: quoted charset\nContent-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: 8bit\n\n' + (C + T).encode() + b'\n')
    cases.append(b'Subject: charset with spaces\nContent-Type: text/plain; charset = " iso-8859-1 "\n\n caf\xe9 \x93x\x94\n')
    cases.append(b'Subject: =?utf-8?B?' + base64.b64encode("免费试用最".encode())[:8] + b'?= =?utf-8?B?' + base64.b64encode("免费试用最".encode())[8:] + b'?=\n\nsplit words\n')
    sb = "免费试用最新产品".encode()
    cases.append(b'Subject: =?utf-8?B?' + base64.b64encode(sb[:4]) + b'?= =?utf-8?B?' + base64.b64encode(sb[4:]) + b'?=\n\nsplit multibyte across words\n')
    cases.append(b'Subject: =?gb2312?B?' + base64.b64encode(C.encode('gb2312')[:5]) + b'?=\n =?gb2312?B?' + base64.b64encode(C.encode('gb2312')[5:]) + b'?=\n\nsplit gb\n')
    cases.append(b'Subject: =?iso-8859-1?q?caf=E9?=a=?iso-8859-1?q?b?=\n\nno space between\n')
    cases.append(b'Subject: =?windows-1251?B?' + base64.b64encode("Скидки".encode('cp1251')) + b'?= and =?koi8-r?Q?' + quopri.encodestring("привет".encode('koi8-r'), header=True) + b'?=\n\nmixed\n')
    cases.append(b'Subject: html meta\nContent-Type: text/html\nContent-Transfer-Encoding: 8bit\n\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>' + C.encode('gb2312') + b' <a href="http://x.example.cn/">here</a></body></html>\n')
    cases.append(b'Subject: html utf8 entities\nContent-Type: text/html; charset=utf-8\n\n<p>&#20813;&#36153; &eacute;t&eacute; &#x4e2d; &nbsp;&euro;&#128;&#150;</p>\n')
    cases.append(b'Subject: rfc822 nested\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit\n\n' + "Привет, недорого".encode('koi8-r') + b'\n--b1\nContent-Type: message/rfc822\n\nSubject: =?big5?B?' + base64.b64encode("免費試用".encode('big5')) + b'?=\nContent-Type: text/plain; charset=big5\nContent-Transfer-Encoding: base64\n\n' + base64.encodebytes("親愛的朋友，免費試用".encode('big5')) + b'\n--b1--\n')
    cases.append(b'Subject: flowed\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\nContent-Transfer-Encoding: 8bit\n\nThis is a long flowed line that wraps \nacross two lines. ' + C.encode() + b' \nend\n')
    cases.append(b'Subject: =?utf-8?q?Mixed_=F0=9F=98=80_emoji?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\n\nemoji and jis in subject\n')
    cases.append(b'Subject: latin1 with c1\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nPrice =80100 =96 =93best=94 =85 =81=8D=8F=90=9D end\n')
    cases.append(b'Subject: rfc2231 filename\nContent-Type: multipart/mixed; boundary="b2"\n\n--b2\nContent-Type: text/plain\n\nsee attached\n--b2\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename*=gb2312\'\'%C3%E2%B7%D1.exe\n\nMZ\n--b2--\n')
    cases.append(b'Subject: =?unknown-8bit?Q?caf=E9?=\nContent-Type: text/plain; charset=unknown-8bit\n\ncaf\xe9 na\xefve\n')
    cases.append(b'Subject: =?x-gbk?B?' + base64.b64encode(C.encode('gbk')) + b'?=\nContent-Type: text/plain; charset=x-gbk\n\n' + C.encode('gbk') + b'\n')
    cases.append(b'Subject: =?ks_c_5601-1987?B?' + base64.b64encode("대출 상담 무료".encode('cp949')) + b'?=\nContent-Type: text/plain; charset=ks_c_5601-1987\nContent-Transfer-Encoding: 8bit\n\n' + "대출 상담 무료 http://loan.example.kr/".encode('cp949') + b'\n')
    cases.append(b'Subject: =?windows-874?B?' + base64.b64encode("สวัสดี".encode('cp874')) + b'?=\nContent-Type: text/plain; charset=tis-620\nContent-Transfer-Encoding: 8bit\n\n' + "สวัสดีครับ ราคาถูก".encode('cp874') + b'\n')
    cases.append(b'Subject: =?utf-8?B?' + base64.b64encode("שלום עולם".encode()) + b'?=\nContent-Type: text/plain; charset=iso-8859-8-i\nContent-Transfer-Encoding: 8bit\n\n' + "שלום עולם מבצע".encode('iso-8859-8') + b'\n')
    cases.append(b'Subject: =?cp1256?B?' + base64.b64encode("مرحبا".encode('cp1256')) + b'?=\nContent-Type: text/plain; charset=windows-1256\nContent-Transfer-Encoding: 8bit\n\n' + "مرحبا بكم عرض خاص".encode('cp1256') + b'\n')
    cases.append(b'Subject: =?iso-8859-9?Q?' + quopri.encodestring("Türkçe ığş".encode('iso-8859-9'), header=True) + b'?=\nContent-Type: text/plain; charset=latin5\nContent-Transfer-Encoding: 8bit\n\n' + "Türkçe ığş kampanya".encode('iso-8859-9') + b'\n')
    cases.append(b'Subject: utf8 bom\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\xef\xbb\xbfBOM start ' + C.encode() + b'\n')
    cases.append(b'Subject: overlong\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nover\xc0\xaflong and surrogate \xed\xa0\x80 and \xf4\x90\x80\x80 end\n')
    cases.append(b'Subject: noncharacter\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\nnonchar \xef\xbf\xbe \xef\xb7\x90 end\n')
    out = open(path, 'wb')
    for i, c in enumerate(cases):
        m = hdr(i) + c
        lines = m.split(b'\n')
        out.write(lines[0] + b'\n' + b'\n'.join((b'>' + l if l.startswith(b'From ') else l) for l in lines[1:]).rstrip(b'\n') + b'\n\n')
    out.close()
    return len(cases)


def mime(path):
    W = ' '.join('word%d' % i for i in range(600))
    cases = []
    H = b'Subject: %s\nMIME-Version: 1.0\n'
    def c(subj, rest): cases.append(H % subj.encode() + rest)
    c('no end boundary', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nfirst part\n--B\nContent-Type: text/html\n\n<p>second <b>part</b></p>\n')
    c('same boundary nested', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/plain\n\ninner plain\n--B--\n--B\nContent-Type: text/plain\n\nouter plain\n--B--\n')
    c('preamble epilogue', b'Content-Type: multipart/mixed; boundary="B"\n\nThis is a preamble with text\n--B\nContent-Type: text/plain\n\nbody text\n--B--\nepilogue text here\n')
    c('part without headers', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\n\nno headers part\n--B\nContent-Type: text/plain\nno blank line after headers\n--B--\n')
    c('name html', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain; name="page.html"\n\n<html><body><b>bold</b> text &amp; more</body></html>\n--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="x.htm"\n\n<p>octet html</p>\n--B--\n')
    c('uppercase type', b'Content-Type: TEXT/HTML; CHARSET=UTF-8\n\n<HTML><BODY>Upper <I>case</I> tags</BODY></HTML>\n')
    c('rfc822 attach', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nsee forwarded\n--B\nContent-Type: message/rfc822\n\nSubject: inner subject\nFrom: a@b.example\nContent-Type: text/html\n\n<p>inner <a href="http://inner.example/x">link</a></p>\n--B--\n')
    c('b64 long lines', b'Content-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n' + base64.b64encode(('<p>' + W + '</p>').encode()) + b'\n--B--\n')
    c('qp soft', b'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nsoft =\nbreak with trailing   \nspaces =20\nand =3D equals =\r\nx\nbad =ZZ escape and = lone\n')
    cases.append(b'Subject: crlf\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\ncrlf plain\r\nline two\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>crlf html</p>\r\n--B--\r\n')
    c('folded', b'X-Long: ' + b'a' * 3000 + b'\nX-Fold: one\n\ttwo\n  three\nContent-Type: text/plain\n\nfolded headers\n')
    c('calendar', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nmeeting\n--B\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--B--\n')
    c('octet text', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: application/octet-stream\n\nplain words in octet\n--B--\n')
    c('bad b64', b'Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29y!!bGQ=\n@@@\nZm9v\n')
    c('digest', b'Content-Type: multipart/digest; boundary="B"\n\n--B\n\nSubject: d1\n\ndigest one\n--B\n\nSubject: d2\n\ndigest two\n--B--\n')
    c('boundary quoted spaces', b'Content-Type: multipart/mixed;\n boundary="  odd boundary  "\n\n--  odd boundary  \nContent-Type: text/plain\n\nodd\n--  odd boundary  --\n')
    c('uuencode', b'Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a.txt\n#86)C\n`\nend\n')
    c('empty multipart', b'Content-Type: multipart/mixed; boundary="B"\n\n--B--\n')
    c('html styles', b'Content-Type: text/html\n\n<html><head><title>The Title</title><style>p{color:red}</style><script>var x="hidden";</script></head><body><!-- a comment --><p>visible</p><font color="#ffffff">white text</font><div style="display:none">none text</div><table><tr><td>cell1</td><td>cell2</td></tr></table>x&nbsp;y&copy;&#8364;<br><br>after</body></html>\n')
    c('qp long html', b'Content-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<p>' + (W.replace(' ', '=20')).encode()[:5000] + b'</p>\n--B--\n')
    c('headers only', b'Content-Type: text/plain\n')
    c('nul in text', b'Content-Type: text/plain\n\nbefore\x00after nul\n')
    c('long plain multipart 8bit', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' + ('caf\u00e9 ' * 700).encode() + b'\n--B--\n')
    c('exact 2048', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\n' + b'x' * 2047 + b'\n' + b'y' * 2048 + b'\n' + b'z' * 2049 + b'\n--B--\n')
    c('last line long', b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\n' + b'q' * 2048 + b'\n--B--\n')
    out = open(path, 'wb')
    for i, m in enumerate(cases):
        m = m.replace(b'\r\n', b'\n') if i != 9 else m
        out.write(b'From x@y Mon Nov 23 10:00:00 2026\n' + b'\n'.join((b'>' + l if l.startswith(b'From ') else l) for l in m.split(b'\n')).rstrip(b'\n') + b'\n\n')
    out.close()
    return len(cases)



def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith('-'):
        sys.stderr.write(__doc__)
        return 2
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, fn in (('charsets', charsets), ('encodings', encodings),
                     ('mime', mime)):
        path = os.path.join(sys.argv[1], name + '.mbox')
        n = fn(path)
        sys.stderr.write('%s: %d messages\n' % (path, n))
    return 0


if __name__ == '__main__':
    sys.exit(main())
