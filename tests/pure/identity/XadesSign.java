// Independent XAdES-BES producer used by test_xades.py to check that verify_enveloped accepts
// signatures it did not create itself. JDK built-in javax.xml.crypto.dsig only; deliberately
// differs from our profile: default-namespace ds elements, inclusive C14N, signature placed
// first in the document. Run: java XadesSign.java in.xml key.pk8.der cert.der out.xml
import javax.xml.crypto.dsig.*;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.keyinfo.*;
import javax.xml.crypto.dsig.spec.*;
import javax.xml.crypto.dom.DOMStructure;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.*;
import java.io.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;

public class XadesSign {
    static final String XADES = "http://uri.etsi.org/01903/v1.3.2#";

    public static void main(String[] a) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        Document doc = dbf.newDocumentBuilder().parse(new File(a[0]));
        byte[] keyDer = Files.readAllBytes(Paths.get(a[1]));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(Paths.get(a[2]))));
        PrivateKey key;
        String sigAlg;
        if (cert.getPublicKey().getAlgorithm().equals("EC")) {
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(keyDer));
            sigAlg = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
        } else {
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(keyDer));
            sigAlg = SignatureMethod.RSA_SHA256;
        }
        XMLSignatureFactory f = XMLSignatureFactory.getInstance("DOM");
        DigestMethod sha256 = f.newDigestMethod(DigestMethod.SHA256, null);

        // QualifyingProperties built by hand (the JDK has no XAdES support)
        Element qp = doc.createElementNS(XADES, "xades:QualifyingProperties");
        qp.setAttribute("Target", "#Sig1");
        Element sp = doc.createElementNS(XADES, "xades:SignedProperties");
        sp.setAttribute("Id", "Props-1");
        sp.setIdAttribute("Id", true);
        qp.appendChild(sp);
        Element ssp = doc.createElementNS(XADES, "xades:SignedSignatureProperties");
        sp.appendChild(ssp);
        Element st = doc.createElementNS(XADES, "xades:SigningTime");
        st.setTextContent("2026-01-02T03:04:05.1234567+01:00");
        ssp.appendChild(st);
        Element sc = doc.createElementNS(XADES, "xades:SigningCertificate");
        ssp.appendChild(sc);
        Element c = doc.createElementNS(XADES, "xades:Cert");
        sc.appendChild(c);
        Element cd = doc.createElementNS(XADES, "xades:CertDigest");
        c.appendChild(cd);
        Element dm = doc.createElementNS(XMLSignature.XMLNS, "DigestMethod");
        dm.setAttribute("Algorithm", DigestMethod.SHA512);
        cd.appendChild(dm);
        Element dv = doc.createElementNS(XMLSignature.XMLNS, "DigestValue");
        dv.setTextContent(Base64.getEncoder().encodeToString(
            MessageDigest.getInstance("SHA-512").digest(cert.getEncoded())));
        cd.appendChild(dv);

        List<Transform> docTransforms = List.of(
            f.newTransform(Transform.ENVELOPED, (TransformParameterSpec) null),
            f.newTransform(CanonicalizationMethod.INCLUSIVE, (TransformParameterSpec) null));
        Reference docRef = f.newReference("", sha256, docTransforms, null, "Ref-doc");
        Reference propRef = f.newReference("#Props-1", sha256,
            List.of(f.newTransform(CanonicalizationMethod.INCLUSIVE, (TransformParameterSpec) null)),
            "http://uri.etsi.org/01903#SignedProperties", null);
        SignedInfo si = f.newSignedInfo(
            f.newCanonicalizationMethod(CanonicalizationMethod.INCLUSIVE, (C14NMethodParameterSpec) null),
            f.newSignatureMethod(sigAlg, null), List.of(docRef, propRef));
        KeyInfoFactory kif = f.getKeyInfoFactory();
        KeyInfo ki = kif.newKeyInfo(List.of(kif.newX509Data(List.of(cert))));
        XMLObject obj = f.newXMLObject(List.of(new DOMStructure(qp)), null, null, null);
        XMLSignature sig = f.newXMLSignature(si, ki, List.of(obj), "Sig1", null);
        Element root = doc.getDocumentElement();
        DOMSignContext ctx = new DOMSignContext(key, root, root.getFirstChild());
        ctx.setIdAttributeNS(sp, null, "Id");
        sig.sign(ctx);
        TransformerFactory.newInstance().newTransformer()
            .transform(new DOMSource(doc), new StreamResult(new File(a[3])));
    }
}
